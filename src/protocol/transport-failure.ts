/**
 * How a call to an entitlement endpoint failed before a complete response, in the words a
 * tester needs: which side refused what. One vocabulary for both clients the mock has:
 * `entitlement-mock request` (cli/request.ts) and record mode's upstream client
 * (record/upstream-client.ts). Pure: it reads Node's error code and message, nothing else.
 */

export type TransportFailureKind = 'timeout' | 'refused' | 'reset' | 'closed' | 'cut-short' | 'tls-server-cert' | 'tls-refused' | 'dns' | 'other';

export interface TransportFailure {
  kind: TransportFailureKind;
  /** One line for a person: "TLS: the server's certificate was refused by this client (CERT_HAS_EXPIRED: certificate has expired)". */
  summary: string;
  code: string | null;
  message: string;
}

/** Where the exchange was when it failed; `unknown` when the caller does not follow it (a reused keep-alive socket). */
export type ExchangePhase = 'connect' | 'headers' | 'body' | 'unknown';

export interface DescribeOptions {
  phase: ExchangePhase;
  /** How this client's certificate is set (`--cert`, `--upstream-cert`), named where the server may have refused it. */
  certificateOption?: string;
}

/** Node's error codes in the words a tester needs: which side refused what. */
export function describeTransportError(error: NodeJS.ErrnoException, { phase, certificateOption }: DescribeOptions): TransportFailure {
  const code = error.code ?? null;
  const message = error.message;
  const detail = `${code ?? 'error'}: ${message}`;
  const failure = (kind: TransportFailureKind, summary: string): TransportFailure => ({ kind, summary, code, message });
  const clientCertificate = certificateOption === undefined ? 'the client certificate' : `the client certificate (${certificateOption})`;

  if (code && isServerCertificateError(code))
    return failure('tls-server-cert', `TLS: the server's certificate was refused by this client (${detail})`);
  if (code && /^ERR_SSL_|^EPROTO$/.test(code))
    return failure(
      'tls-refused',
      /ALERT/.test(code) || /alert/.test(message)
        ? `TLS refused by the server, most likely because of ${clientCertificate} (${detail})`
        : `TLS handshake failed (${detail})`,
    );
  if (code === 'ECONNREFUSED') return failure('refused', `connection refused: nothing listens on ${message.split(' ').pop()}`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return failure('dns', `host name not found (${detail})`);
  if (code === 'ECONNRESET' && message === 'socket hang up')
    return failure('closed', `connection closed ${phase === 'connect' ? 'during the TLS handshake' : 'without a response'} (${refusalHint(phase, clientCertificate)})`);
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return failure(
      'reset',
      `connection reset ${phase === 'connect' ? 'during the TLS handshake' : '(TCP RST) without a response'} (${detail}; ${refusalHint(phase, clientCertificate)})`,
    );
  return failure('other', `request failed (${detail})`);
}

/** With TLS 1.3 a server that refuses the client certificate often says so after the handshake, as a plain close or reset. */
function refusalHint(phase: ExchangePhase, clientCertificate: string): string {
  if (phase === 'connect') return `the server may have refused ${clientCertificate}`;
  if (phase === 'unknown') return `if every request fails so, the server may be refusing ${clientCertificate}`;
  return `right after the TLS handshake, this is how many servers refuse ${clientCertificate}`;
}

function isServerCertificateError(code: string): boolean {
  return (
    /^(CERT_|UNABLE_TO_|ERR_TLS_CERT_)/.test(code) ||
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'INVALID_CA', 'HOSTNAME_MISMATCH'].includes(code)
  );
}
