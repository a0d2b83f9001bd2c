/**
 * The responder's input: a fully decided answer. The scenario runtime (and record mode, and the
 * endpoint's own protocol errors) produce it; deliver.ts only writes it. Nothing here knows
 * about scenarios.
 */

/** How a body reaches the socket. `slow` dribbles it over delayMs; `partial` sends headers and half the body, then closes. */
export type Delivery = 'whole' | 'slow' | 'partial';

/** A fault that sends no response at all. */
export type SilentFault = 'hang' | 'reset' | 'close';

/** A fully decided answer: everything templated and chosen; the responder only writes it. */
export type ResponsePlan =
  | {
      kind: 'json';
      status: number;
      headers: Record<string, string>;
      /** The JSON object to send (already templated, omit/extra applied). */
      body: Record<string, unknown>;
      /** Before answering; for `slow`, the time over which the body is dribbled. */
      delayMs: number;
      delivery: Delivery;
    }
  | {
      kind: 'raw';
      status: number;
      headers: Record<string, string>;
      body: string;
      delayMs: number;
      delivery: Delivery;
    }
  | {
      kind: 'fault';
      fault: SilentFault;
      /** Wait before the fault happens (reset/close after a delay). */
      delayMs: number;
    };
