import { createApiClient, type ApiClient, type Schemas } from '../../client';

const TOKEN_KEY = 'media-demo.token';
const USER_KEY = 'media-demo.user';

export type UserProfile = Schemas['UserProfileDto'];

/**
 * The access token lives in sessionStorage: it survives a reload of this tab (a recording page should not log
 * the user out on refresh) but is not shared with other tabs and is gone when the tab closes. It is never put
 * in a URL; EventSource uses single-use tickets and the player uses signed links instead.
 */
export class Session {
  readonly api: ApiClient = createApiClient({ token: () => this.token });

  get token(): string | undefined {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  }

  get user(): UserProfile | undefined {
    const raw = sessionStorage.getItem(USER_KEY);
    return raw ? (JSON.parse(raw) as UserProfile) : undefined;
  }

  /** Authorization header for requests the typed client does not make (XHR, tus). */
  authHeaders(): Record<string, string> {
    const token = this.token;
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  signIn(token: string, user: UserProfile): void {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  }

  signOut(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  }
}
