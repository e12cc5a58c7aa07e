declare global {
  namespace App {
    interface Locals {
      /** The signed-in user's id (usr_…), or null. Set on every request by hooks.server.ts. */
      userId: string | null;
    }
    interface Error {
      message: string;
      /** What the user can do about it. */
      hint?: string;
    }
  }
}
export {};
