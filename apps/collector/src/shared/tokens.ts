export const COLLECTOR_CONFIG = Symbol('COLLECTOR_CONFIG');
export const CLOCK = Symbol('CLOCK');
export const PLUGIN_REGISTRY = Symbol('PLUGIN_REGISTRY');
/** Optional {@link PollObserver} the poller reports poll timings and scheduling lag to (the /metrics histograms). */
export const POLL_OBSERVER = Symbol('POLL_OBSERVER');
/** Optional {@link PollEvents} the poller tells about stored results and agents going DOWN / UP (the alert engine). */
export const POLL_EVENTS = Symbol('POLL_EVENTS');
/** Optional overrides of the API token throttle's limits (AUTH_THROTTLE_DEFAULTS otherwise). */
export const API_AUTH_LIMITS = Symbol('API_AUTH_LIMITS');
