import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

const MAX_FORM_BYTES = 64 * 1024;

/**
 * The URL-encoded form of a POST, at most 64 KiB. A body already parsed by a framework
 * (Express's `urlencoded()` sets `req.body`) is taken from there.
 */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed !== null && typeof parsed === 'object' && !Buffer.isBuffer(parsed)) {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>))
      if (typeof value === 'string') form.append(key, value);
    return form;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw new HttpError(415, 'Actions take an HTML form (application/x-www-form-urlencoded).');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new HttpError(413, 'The form is larger than 64 KiB.');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
