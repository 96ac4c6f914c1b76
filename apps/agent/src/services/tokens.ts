export const AGENT_CONFIG = Symbol('AGENT_CONFIG');
export const PLUGIN_REGISTRY = Symbol('PLUGIN_REGISTRY');
export const SPOOL = Symbol('SPOOL');
export const CLOCK = Symbol('CLOCK');
