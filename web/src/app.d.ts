declare global {
  namespace App {
    interface Locals {
      /** The signed-in user's id (usr_…), or null. Set on every request by hooks.server.ts. */
      userId: string | null;
      /** Set when a call to the API's /internal/auth routes found the API unreachable during this request. */
      authApiUnavailable?: boolean;
    }
    interface Error {
      message: string;
      /** What the user can do about it. */
      hint?: string;
    }
  }
}
export {};
