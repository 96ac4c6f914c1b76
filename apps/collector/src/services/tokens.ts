export const COLLECTOR_CONFIG = Symbol('COLLECTOR_CONFIG');
export const CLOCK = Symbol('CLOCK');
export const PLUGIN_REGISTRY = Symbol('PLUGIN_REGISTRY');
