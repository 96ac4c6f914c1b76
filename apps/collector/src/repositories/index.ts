export * from './data-source.js';
export * from './agents.repository.js';
export * from './checks.repository.js';
export * from './results.repository.js';
export * from './result-writer.js';
export { isPostgres } from './transaction.js';
