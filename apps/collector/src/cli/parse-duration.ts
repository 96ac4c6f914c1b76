// The CLI's durations are the API's: one reading of "30s" everywhere.
export { parseDuration } from '#rounds/common';
