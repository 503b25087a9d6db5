import type { Classifier, FaultCategory } from '../fault.js';
import { errorClassName, isObject } from '../read.js';

/** Redis reply errors start with an upper-case code word: `LOADING Redis is loading ...`. */
const REPLY_CODES: ReadonlyMap<string, FaultCategory> = new Map<string, FaultCategory>([
  ['LOADING', 'unavailable'],
  ['BUSY', 'unavailable'],
  ['TRYAGAIN', 'unavailable'],
  ['CLUSTERDOWN', 'unavailable'],
  ['MASTERDOWN', 'unavailable'],
  ['READONLY', 'unavailable'],
  ['MOVED', 'unavailable'],
  ['ASK', 'unavailable'],
  ['OOM', 'resource'],
  ['NOAUTH', 'auth'],
  ['WRONGPASS', 'auth'],
  ['NOPERM', 'auth'],
  ['WRONGTYPE', 'permanent'],
  ['NOSCRIPT', 'permanent'],
  ['ERR', 'permanent'],
]);

/** Errors ioredis and node-redis raise when the connection, not the command, failed. */
const CONNECTION_ERROR_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'ConnectionTimeoutError',
  'SocketClosedUnexpectedlyError',
  'ClientClosedError',
  'ClientOfflineError',
  'DisconnectsClientError',
  'ReconnectStrategyError',
  'RootNodesUnavailableError',
]);

/** node-redis errors of a command that did not conflict with the data but with a concurrent change. */
const CONFLICT_ERROR_NAMES = new Set(['WatchError']);

const REPLY_ERROR_NAMES = new Set(['ReplyError', 'ErrorReply', 'SimpleError', 'BlobError']);

const CONNECTION_MESSAGES = [
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
];

export const redisClassifier: Classifier = {
  name: 'redis',
  classify(error) {
    if (!isObject(error)) return undefined;
    const name = errorClassName(error);
    if (name === undefined) return undefined;
    if (REPLY_ERROR_NAMES.has(name)) {
      const message = typeof error.message === 'string' ? error.message : '';
      const space = message.indexOf(' ');
      const word = space === -1 ? message : message.slice(0, space);
      const category = REPLY_CODES.get(word);
      return category === undefined ? undefined : { category, code: word };
    }
    if (CONNECTION_ERROR_NAMES.has(name)) return { category: 'network', code: name };
    if (CONFLICT_ERROR_NAMES.has(name)) return { category: 'conflict', code: name };
    if (
      name === 'Error' &&
      typeof error.message === 'string' &&
      CONNECTION_MESSAGES.includes(error.message)
    ) {
      return { category: 'network', code: 'REDIS_CONNECTION_CLOSED' };
    }
    return undefined;
  },
};
