// What the plugin runner needs of this library: reasons, the clock and the result limits. A
// custom plugin's worker thread loads the runner; through the library's index it would also
// load gRPC, TLS and the rest, which costs about a second at every worker start.
export * from './reasons.js';
export * from './clock.js';
export * from './limits.js';
