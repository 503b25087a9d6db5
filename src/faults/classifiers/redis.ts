import type { Classifier, FaultCategory } from '../fault.js';
import { isObject } from '../read.js';

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
]);

const CONNECTION_MESSAGES = ['Connection is closed.', "Stream isn't writeable and enableOfflineQueue options is false"];

export const redisClassifier: Classifier = {
  name: 'redis',
  classify(error) {
    if (!isObject(error)) return undefined;
    const name = error.name;
    if (typeof name !== 'string') return undefined;
    if (name === 'ReplyError' || name === 'ErrorReply' || name === 'SimpleError' || name === 'BlobError') {
      const message = typeof error.message === 'string' ? error.message : '';
      const space = message.indexOf(' ');
      const word = space === -1 ? message : message.slice(0, space);
      const category = REPLY_CODES.get(word);
      return category === undefined ? undefined : { category, code: word };
    }
    if (CONNECTION_ERROR_NAMES.has(name)) return { category: 'network', code: name };
    if (name === 'Error' && typeof error.message === 'string' && CONNECTION_MESSAGES.includes(error.message)) {
      return { category: 'network', code: 'REDIS_CONNECTION_CLOSED' };
    }
    return undefined;
  },
};
