/**
 * The reconnect backoff every reconnecting part of geoloc follows (live video sources, fix
 * outputs): the wait doubles after each failed attempt, up to a ceiling.
 */
export interface BackoffPolicy {
  /** wait before the first reconnect; each failed attempt doubles it */
  initialDelayMs: number;
  /** the longest wait between attempts */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 8000 };

/** The wait before reconnect attempt `failures` (1 after the first failure). */
export function backoffDelayMs(policy: BackoffPolicy, failures: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (failures - 1));
}
