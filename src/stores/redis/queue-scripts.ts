import type { Redis } from 'ioredis';
import { type QueueKeys, queueKeys } from './keys.js';
import { defineScript, type LuaScript, runScript } from './script.js';
import checkpointJob from './scripts/checkpoint-job.lua.js';
import claim from './scripts/claim.lua.js';
import common, { QUEUE_KEYS_HEADER } from './scripts/common.lua.js';
import deleteJobs from './scripts/delete-jobs.lua.js';
import enqueue from './scripts/enqueue.lua.js';
import leaseHolders from './scripts/lease-holders.lua.js';
import matchText from './scripts/match-text.lua.js';
import pause from './scripts/pause.lua.js';
import prune from './scripts/prune.lua.js';
import renew from './scripts/renew.lua.js';
import requeueDead from './scripts/requeue-dead.lua.js';
import resume from './scripts/resume.lua.js';
import settle from './scripts/settle.lua.js';
import stats from './scripts/stats.lua.js';

/** Each queue command's source is its own file; the shared helpers are prepended here. */
function queueScript(name: string, body: string): LuaScript {
  return defineScript(name, `-- faultline ${name}${QUEUE_KEYS_HEADER}\n${common}\n${body}`);
}

export const QUEUE_SCRIPTS = {
  enqueue: queueScript('enqueue', enqueue),
  claim: queueScript('claim', claim),
  renew: queueScript('renew', renew),
  settle: queueScript('settle', settle),
  checkpointJob: queueScript('checkpoint-job', checkpointJob),
  pause: queueScript('pause', pause),
  resume: queueScript('resume', resume),
  stats: queueScript('stats', stats),
  requeueDead: queueScript('requeue-dead', requeueDead),
  deleteJobs: queueScript('delete-jobs', deleteJobs),
  prune: queueScript('prune', prune),
  matchText: queueScript('match-text', matchText),
  leaseHolders: queueScript('lease-holders', leaseHolders),
} as const;

export type QueueScriptName = keyof typeof QUEUE_SCRIPTS;

/** The KEYS of a queue in the order every queue script expects (see common.lua.ts). */
export function scriptKeys(keys: QueueKeys): string[] {
  return [
    keys.meta,
    keys.waiting,
    keys.delayed,
    keys.running,
    keys.completed,
    keys.dead,
    keys.idempotency,
  ];
}

/** One queue's keys and a way to run its scripts. */
export class QueueScripts {
  readonly keys: QueueKeys;
  private readonly keyList: string[];
  private readonly jobPrefix: string;

  constructor(
    private readonly client: Redis,
    prefix: string,
    readonly queue: string,
  ) {
    this.keys = queueKeys(prefix, queue);
    this.keyList = scriptKeys(this.keys);
    this.jobPrefix = this.keys.jobPrefix;
  }

  jobKey(member: string): string {
    return this.jobPrefix + member;
  }

  run(name: QueueScriptName, args: readonly (string | number)[]): Promise<unknown> {
    return runScript(this.client, QUEUE_SCRIPTS[name], this.keyList, [this.jobPrefix, ...args]);
  }
}
