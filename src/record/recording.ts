/**
 * Record mode's running state: forwards each Entitlement Request upstream, turns the
 * outcome into the plan the responder sends (the service's answer unchanged, or a 502
 * naming the failure), feeds usable answers to the recorder, and writes the recorded
 * scenario on request (snapshot) and at stop.
 */
import { access } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import type { ParsedRequest } from '../protocol/validate.js';
import type { EntitlementRequest } from '../protocol/types.js';
import type { ResponsePlan } from '../respond/plan.js';
import type { JournaledResponse } from '../respond/journaled-response.js';
import { UpstreamClient, type UpstreamOutcome, type UpstreamTarget } from './upstream-client.js';
import { journaledUpstream, type JournaledUpstream } from './journaled-upstream.js';
import { Recorder } from './recorder.js';
import type { RecordingStatus, SnapshotResult } from './recording-status.js';
import { recordingText, writeFileAtomically } from './scenario-writer.js';

export type { RecordingStatus, SnapshotResult };

export interface RecordOptions {
  upstream: UpstreamTarget;
  /** Where the recorded scenario is written. */
  out: string;
  /** Replace an --out file that exists at start (else starting fails). */
  overwrite: boolean;
  recordFailures: boolean;
  matchCookie: boolean;
  templateTokens: boolean;
}

/** What the entitlement handler does with a request in record mode. */
export interface ForwardedExchange {
  plan: ResponsePlan;
  response: JournaledResponse;
  upstream: JournaledUpstream;
}

/** Thrown at start when the recording cannot begin (an --out file exists without --overwrite). */
export class RecordingSetupError extends Error {}

export class Recording {
  private readonly client: UpstreamClient;
  private readonly recorder: Recorder;
  private readonly startedAt = new Date();
  private forwarded = 0;
  private failed = 0;
  private writtenAt: Date | null = null;
  private writeError: string | null = null;
  /** Writes happen one after another, so a snapshot and the final write never interleave. */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: RecordOptions,
    private readonly version: string,
  ) {
    this.client = new UpstreamClient(options.upstream);
    this.recorder = new Recorder(options);
  }

  static async start(options: RecordOptions, version: string): Promise<Recording> {
    if (!options.overwrite && (await exists(options.out)))
      throw new RecordingSetupError(`--out ${options.out} exists; choose another file or pass --overwrite to replace it`);
    return new Recording(options, version);
  }

  /** Forward one request's body; only valid requests are recorded (an invalid one has no key to match on). */
  async forward(bodyText: string, headers: IncomingHttpHeaders, parsed: ParsedRequest): Promise<ForwardedExchange> {
    const outcome = await this.client.forward(bodyText, headers);
    this.forwarded++;
    const upstream = journaledUpstream(this.client.url, outcome);
    const request = parsed.valid ? parsed.request : null;
    if (outcome.kind === 'answered') {
      if (request) this.recorder.add(request, { status: 200, contentType: outcome.contentType, body: outcome.json });
      return {
        plan: { kind: 'raw', status: 200, headers: { 'Content-Type': outcome.contentType ?? 'application/json' }, body: outcome.text, delayMs: 0, delivery: 'whole' },
        response: { status: 200, body: outcome.json, fault: null, delayMs: 0 },
        upstream,
      };
    }
    this.failed++;
    const body = badGatewayBody(request, outcome);
    if (request && this.options.recordFailures) this.recorder.add(request, { status: 502, contentType: null, body });
    return {
      plan: { kind: 'json', status: 502, headers: {}, body, delayMs: 0, delivery: 'whole' },
      response: { status: 502, body, fault: null, delayMs: 0 },
      upstream,
    };
  }

  status(): RecordingStatus {
    const { options } = this;
    return {
      upstream: this.client.url,
      out: options.out,
      startedAt: this.startedAt.toISOString(),
      forwarded: this.forwarded,
      failed: this.failed,
      ...this.recorder.counts(),
      writtenAt: this.writtenAt?.toISOString() ?? null,
      writeError: this.writeError,
      recordFailures: options.recordFailures,
      matchCookie: options.matchCookie,
      templateTokens: options.templateTokens,
    };
  }

  /** The recorded scenario as the YAML file text, as it would be written now. */
  text(at = new Date()): string {
    const counts = this.recorder.counts();
    const description = `Recorded from ${this.client.url} at ${at.toISOString()}`;
    return recordingText(this.options.out, this.recorder.scenario(description), {
      upstream: this.client.url,
      startedAt: this.startedAt,
      writtenAt: at,
      version: this.version,
      counts,
      recordFailures: this.options.recordFailures,
      matchCookie: this.options.matchCookie,
      templateTokens: this.options.templateTokens,
    });
  }

  /** Write everything recorded so far to --out (replacing the previous snapshot of this recording). */
  snapshot(): Promise<SnapshotResult> {
    const write = this.writing.then(async () => {
      const at = new Date();
      const { rules, recorded } = this.recorder.counts();
      try {
        await writeFileAtomically(this.options.out, this.text(at));
      } catch (error) {
        this.writeError = (error as Error).message;
        throw error;
      }
      this.writtenAt = at;
      this.writeError = null;
      return { file: this.options.out, rules, recorded, writtenAt: at.toISOString() };
    });
    this.writing = write.catch(() => undefined);
    return write;
  }

  /** Forget what was recorded so far (the file is left alone until the next write). */
  clear(): void {
    this.recorder.clear();
    this.forwarded = 0;
    this.failed = 0;
  }

  /** Close the upstream connections (after the listeners stopped). */
  close(): void {
    this.client.close();
  }
}

/** The answer when the service gave none that can be passed on: 502, isAllowed false, the reason. */
function badGatewayBody(request: EntitlementRequest | null, outcome: Extract<UpstreamOutcome, { kind: 'failed' }>): Record<string, unknown> {
  const body: Record<string, unknown> = request ? { messageID: request.messageID, version: request.version } : {};
  body.isAllowed = false;
  body.epTokenURL = '';
  body.error = 502;
  body.errorText = outcome.reason;
  return body;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
