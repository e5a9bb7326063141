// The message of something thrown: an Error's message, else the thrown value as text (a string, a number, an
// object from a worker). The one place this extraction is written.
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string')
    return (e as { message: string }).message;
  return String(e);
}
