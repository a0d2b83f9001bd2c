/**
 * The license server's client side: asks for one license with `POST /license` and says what it
 * got, in the shape a conformance run takes as a case's outcome.
 */

/** What to ask a license for: a conformance case's ticket has these fields (and others, ignored). */
export interface LicenseQuery {
  contentID: string;
  requestType?: number;
  customerCookie?: string;
  entitlementUrl?: string;
}

export interface LicenseOutcome {
  license: 'granted' | 'refused';
  code?: number;
  text?: string;
  elapsedMs: number;
}

/**
 * Asks the license server at `licenseServerUrl` for a license. No answer within `patienceMs` is a
 * refusal too (the client gave up); a 400 (a malformed license request) throws.
 */
export async function askForLicense(licenseServerUrl: string, query: LicenseQuery, patienceMs: number): Promise<LicenseOutcome> {
  const { contentID, requestType, customerCookie, entitlementUrl } = query;
  const request = {
    contentID,
    ...(requestType === undefined ? {} : { requestType }),
    ...(customerCookie === undefined ? {} : { customerCookie }),
    ...(entitlementUrl === undefined ? {} : { entitlementUrl }),
  };
  const startedAt = performance.now();
  const elapsedMs = () => Math.round(performance.now() - startedAt);
  let response: Response;
  let answer: { license?: unknown; code?: unknown; text?: unknown; error?: unknown };
  try {
    response = await fetch(new URL('/license', licenseServerUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(patienceMs),
    });
    answer = (await response.json()) as typeof answer;
  } catch (error) {
    if ((error as Error).name !== 'TimeoutError') throw error;
    return { license: 'refused', text: `no answer from the license server within ${patienceMs} ms`, elapsedMs: elapsedMs() };
  }
  if (answer.license !== 'granted' && answer.license !== 'refused') throw new Error(`POST /license answered ${response.status}: ${JSON.stringify(answer)}`);
  return {
    license: answer.license,
    ...(typeof answer.code === 'number' ? { code: answer.code } : {}),
    ...(typeof answer.text === 'string' ? { text: answer.text } : {}),
    elapsedMs: elapsedMs(),
  };
}
