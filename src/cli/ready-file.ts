/**
 * --ready-file: tells a test harness where a started mock listens. Written once both
 * listeners accept (whatever the log level), to a temporary name first and then renamed,
 * so a reader never sees a half-written file; removed again on a clean shutdown.
 */
import { rename, rm, writeFile } from 'node:fs/promises';

export interface ReadyInfo {
  entitlementUrl: string;
  adminUrl: string;
  pid: number;
}

export async function writeReadyFile(path: string, info: ReadyInfo): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(info)}\n`);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new Error(`cannot write the ready file --ready-file ${path} (EM_READY_FILE): ${(error as Error).message}`);
  }
}

export const removeReadyFile = (path: string): Promise<void> => rm(path, { force: true });
