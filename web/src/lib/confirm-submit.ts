/** An `onsubmit` handler that asks first and cancels the submit unless the user confirms (destructive actions). */
export const confirmSubmit = (message: string) => (e: SubmitEvent) => {
  if (!confirm(message)) e.preventDefault();
};
