/**
 * The size limits of a run as the API serves it (issue 11, "Runs of 100,000 images"): one
 * place, so the use cases, the stores and the README agree.
 *
 * Why bytes matter: a Lambda's response (API Gateway proxy result: status, headers and the body
 * as one JSON string) may not exceed 6 MB, and DynamoDB items not 400 KB.
 */

/** The longest message an image record keeps (characters); longer ones are cut, with `…` at the end. */
export const maxImageMessageChars = 2_000;

/** Runs of up to this many images list them inline in `GET /v1/runs/{id}`; larger ones point at `imagesUrl`. */
export const maxInlineImages = 1_000;

/** `GET /v1/runs/{id}/images`: the default and the largest `limit`. */
export const defaultImagePageLimit = 100;
export const maxImagePageLimit = 1_000;

/**
 * The most a response body may take in the Lambda's result (counted as it is encoded there, a
 * JSON string inside JSON): pages stop before it, and what cannot be paged is refused beyond it.
 * 5 MiB leaves a margin of 1 MiB below Lambda's 6 MB for the status, the headers and the envelope.
 */
export const maxResponseBodyBytes = 5 * 1024 * 1024;

/** Lambda's limit on a synchronous response (API Gateway proxy result included): 6 MB. */
export const lambdaResponseLimitBytes = 6 * 1024 * 1024;

/** The message an image keeps: at most {@link maxImageMessageChars} characters (a cut one ends in `…`). */
export function capImageMessage(message: string): string;
export function capImageMessage(message: string | undefined): string | undefined;
export function capImageMessage(message: string | undefined): string | undefined {
  if (message === undefined || message.length <= maxImageMessageChars) return message;
  // Never split a surrogate pair: the stored text stays valid UTF-16.
  let end = maxImageMessageChars - 1;
  const last = message.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${message.slice(0, end)}…`;
}

/** What `value` takes in a Lambda proxy result's body: its JSON, encoded again as a JSON string, in UTF-8 bytes. */
export function responseBytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value)));
}
