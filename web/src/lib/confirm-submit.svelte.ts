import type { SubmitFunction } from '@sveltejs/kit';

/**
 * Whether the page's scripts have taken over (the root layout sets it on mount). Until then a click
 * would submit a form natively, without the confirmation a destructive action asks for, so the buttons
 * of confirmation-guarded forms stay disabled until it is true.
 */
export const hydration = $state({ done: false });

/**
 * For `use:enhance` on destructive forms: asks first and cancels the submit unless the user confirms,
 * then runs `then` (the form's own submit function) if any. It has to be the enhance function itself:
 * enhance sends the request whether or not another submit listener prevented the default.
 */
export const confirmFirst = (message: string, then?: SubmitFunction): SubmitFunction => (input) => {
  if (!confirm(message)) return input.cancel();
  return then?.(input);
};
