import type { Classifier, FaultCategory } from '../fault.js';
import { isObject } from '../read.js';

/**
 * Node's errno codes and the codes of its networking stack (net, http, undici), by category.
 */
const CODES: ReadonlyMap<string, FaultCategory> = new Map<string, FaultCategory>([
  ...(
    [
      'ECONNRESET',
      'ECONNREFUSED',
      'ECONNABORTED',
      'EPIPE',
      'EHOSTUNREACH',
      'EHOSTDOWN',
      'ENETUNREACH',
      'ENETDOWN',
      'ENETRESET',
      'ENOTFOUND',
      'EAI_AGAIN',
      'EPROTO',
      'ERR_STREAM_PREMATURE_CLOSE',
      'UND_ERR_SOCKET',
      'UND_ERR_CLOSED',
      'ERR_HTTP2_STREAM_ERROR',
      'ERR_HTTP2_GOAWAY_SESSION',
    ] as const
  ).map((code) => [code, 'network'] as const),
  ...(
    [
      'ETIMEDOUT',
      'ESOCKETTIMEDOUT',
      'UND_ERR_CONNECT_TIMEOUT',
      'UND_ERR_HEADERS_TIMEOUT',
      'UND_ERR_BODY_TIMEOUT',
      'ERR_SOCKET_CONNECTION_TIMEOUT',
    ] as const
  ).map((code) => [code, 'timeout'] as const),
  ...(['ENOSPC', 'ENOMEM', 'EMFILE', 'ENFILE', 'EDQUOT', 'EROFS'] as const).map(
    (code) => [code, 'resource'] as const,
  ),
  ...(['EACCES', 'EPERM', 'ENOENT', 'EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'EEXIST'] as const).map(
    (code) => [code, 'permanent'] as const,
  ),
  ...(['ABORT_ERR', 'UND_ERR_ABORTED'] as const).map((code) => [code, 'cancelled'] as const),
  ['EBUSY', 'conflict'],
  ['EAGAIN', 'unavailable'],
]);

export function categoryOfErrno(code: string): FaultCategory | undefined {
  return CODES.get(code);
}

export const errnoClassifier: Classifier = {
  name: 'errno',
  classify(error) {
    if (!isObject(error)) return undefined;
    const code = error.code;
    if (typeof code !== 'string') return undefined;
    const category = CODES.get(code);
    return category === undefined ? undefined : { category, code };
  },
};
