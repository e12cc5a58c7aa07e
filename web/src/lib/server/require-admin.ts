import { error } from '@sveltejs/kit';

/** Server-side gate for operator pages: members get a 403 page, not just a hidden link. */
export function requirePlatformAdmin(viewer: { isPlatformAdmin: boolean }): void {
  if (!viewer.isPlatformAdmin) {
    error(403, { message: 'This page is for platform administrators.', hint: 'Ask a platform admin if you need nodes or prices changed.' });
  }
}
