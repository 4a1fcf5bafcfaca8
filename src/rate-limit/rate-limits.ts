/** The named rate limits; each route opts into exactly one. */
export const RATE_LIMITS = {
  /** Register and login, counted per client address (brute force, account spraying). */
  auth: 'auth',
  /** Starting an upload, counted per user (or per address before authentication). */
  upload: 'upload',
} as const;

export type RateLimitName = (typeof RATE_LIMITS)[keyof typeof RATE_LIMITS];
