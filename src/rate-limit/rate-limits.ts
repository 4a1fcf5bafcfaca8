/** The named rate limits; each route opts into exactly one. */
export const RATE_LIMITS = {
  /** Register and login, counted per client address (floods; login also throttles per account). */
  auth: 'auth',
  /** Starting an upload, counted per user (or per address before authentication). */
  upload: 'upload',
  /** Seed chunks (POST /api/video/upload), counted per user: a recorder sends about one a second, and retries. */
  chunk: 'chunk',
} as const;

export type RateLimitName = (typeof RATE_LIMITS)[keyof typeof RATE_LIMITS];
