/**
 * The live set of scenarios the server answers from: file scenarios (hot
 * reloaded), posted scenarios (in memory) and which one is active.
 *
 * Reload semantics (docs/scenarios.md documents these):
 * - The request path reads one reference (`active()`); every change builds a
 *   complete new view and assigns it in one statement, so a request sees
 *   either the old or the new scenarios, never a mix. No file I/O happens on
 *   the request path; reloads read files asynchronously.
 * - Watching: `fs.watch` on the folder (for a single file: on its folder). Any
 *   event schedules one re-read 75 ms later (events in between ride along), so
 *   editors that save by writing a temporary file and renaming it, and
 *   Kubernetes ConfigMap symlink swaps, are picked up. Files whose text did not
 *   change are not parsed again and keep their compiled scenario and counters.
 * - A file that breaks keeps serving its last good version; its errors are
 *   listed (`list().errors`, and in the reload outcome) until it is fixed.
 *   A file that is deleted takes its scenario away.
 * - If the active scenario disappears (its file deleted, or its `name:`
 *   changed), the mock keeps serving the last version of it and lists an error
 *   saying so, until another scenario is activated. It never switches scenario
 *   on its own behind a running test.
 * - Counters: a scenario whose file changed is recompiled (fresh counters);
 *   `reload()` (POST /admin/reset) re-reads every file and resets every
 *   counter; `setActive` resets the counters of the scenario it activates.
 * - Posted scenarios live in memory until the process ends (reloads and resets
 *   keep them), and hide a file scenario of the same name; `remove` brings the
 *   file scenario back. Removing the active posted scenario activates the one
 *   that was active before it was activated (skipping any removed since), else
 *   the start scenario (`initial`).
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { compileScenario } from '../runtime/compile.js';
import { scenarioScope, type SharedRuleState } from '../runtime/state/shared.js';
import type { CompiledScenario, RandomSource, StateListing } from '../runtime/engine.js';
import type { LoadedScenario, PositionedError } from '../format/loaded.js';
import type { ScenarioListing, ScenarioSummary } from './listing.js';
import { defaultNameOf, duplicateNameError, listScenarioFiles, noFilesError, readScenarioText } from './load.js';
import { parseScenarioText, type ParseResult } from '../format/parse.js';
import { didYouMean } from '../format/schema-errors.js';

/** The `file` of a posted scenario. */
export const POSTED_FILE = '(posted)';

/** How long after a file system event the files are re-read. */
export const RELOAD_DEBOUNCE_MS = 75;

export interface ScenarioRegistryOptions {
  /** A folder of `*.yaml`/`*.yml` files, or one file. */
  path: string;
  /** The scenario active at start (also the fallback when the active posted scenario is removed). */
  initial: string;
  random: RandomSource;
  /** Reload when the files change. */
  watch: boolean;
  /** Called after each reload that changed something (or found errors), and after every reset: one log line each. */
  onReload?: (outcome: ReloadOutcome) => void;
  /** Milliseconds between a file system event and the re-read (default RELOAD_DEBOUNCE_MS). */
  debounceMs?: number;
  /** Where counters and states are shared with other processes (scope `scenario:<name>`); default: in each compiled scenario. */
  shared?: SharedRuleState | null;
}

export interface ReloadOutcome {
  /** `watch`: files changed on disk; `reset`: reload() (POST /admin/reset). */
  trigger: 'watch' | 'reset';
  /** Every scenario name served after the reload. */
  names: string[];
  active: string;
  /** Files whose text changed, appeared or disappeared since the last read. */
  changed: string[];
  /** Files that have errors now and keep serving their last good version. */
  keptLastGood: string[];
  /** Every current problem (all files, not only the changed ones). */
  errors: PositionedError[];
  warnings: PositionedError[];
  durationMs: number;
}

export interface StartOutcome {
  ok: boolean;
  /** Why the start failed (with `errors` for the details). */
  message?: string;
  /** What failed it: no scenario loaded at all, or the one to start with is not among them. */
  failure?: 'no-scenario' | 'unknown-initial';
  /** Problems with files; when ok, the files that were skipped. */
  errors: PositionedError[];
  warnings: PositionedError[];
  /** The scenario names that loaded. */
  known: string[];
}

interface ServedScenario {
  name: string;
  file: string;
  description: string;
  compiled: CompiledScenario;
}

/** What one file holds now: the text last read, the version serving, and the latest problems. */
interface FileState {
  text: string | null;
  serving: ServedScenario | null;
  /** Where the serving version wrote `name:`, for duplicate-name messages. */
  parsed: ParseResult | null;
  errors: PositionedError[];
  warnings: PositionedError[];
}

/** Everything a request or an admin read needs, swapped as one reference. */
interface View {
  readonly byName: ReadonlyMap<string, ServedScenario>;
  readonly order: readonly ServedScenario[];
  readonly active: ServedScenario;
  /** Set when the active scenario is no longer defined and keeps serving its last version. */
  readonly orphan: boolean;
  readonly errors: readonly PositionedError[];
  readonly warnings: readonly PositionedError[];
}

/** An admin edit of the scenario set, told to `change` listeners (file reloads are told to `reload` listeners). */
/** Where the active scenario went when the removed posted scenario was the active one; null when it was not. */
export type FellBackTo = 'previous' | 'start' | null;
export type RemoveOutcome = { ok: true; active: string; fellBackTo: FellBackTo } | { ok: false };

export type ScenarioEdit = 'switch' | 'post' | 'remove';

export class ScenarioRegistry extends EventEmitter<{ reload: [ReloadOutcome]; change: [ScenarioEdit] }> {
  private files = new Map<string, FileState>();
  private readonly posted = new Map<string, ServedScenario>();
  private activeScenarioName: string;
  /**
   * The scenarios active before the active one, most recent last, each name once: where removing
   * the active posted scenario goes back to. At most one entry per scenario, so it stays small.
   */
  private readonly activeBefore: string[] = [];
  private view: View | null = null;
  private pathError: PositionedError | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private watchReloadQueued = false;
  private closed = false;
  private readonly compile: (loaded: LoadedScenario) => CompiledScenario;

  constructor(private readonly options: ScenarioRegistryOptions) {
    super();
    this.activeScenarioName = options.initial;
    const shared = options.shared ?? null;
    this.compile = (loaded) => compileScenario(loaded, options.random, shared === null ? null : { store: shared, scope: scenarioScope(loaded.name) });
  }

  /**
   * Read the files and choose the start scenario. Fails when no scenario
   * loaded, or when `initial` is not among them (the message lists the known
   * names); otherwise broken files are returned in `errors` and skipped.
   */
  async load(): Promise<StartOutcome> {
    await this.refreshFiles();
    const current = this.build(false);
    const known = [...current.byName.keys()];
    const errors = [...current.errors];
    const warnings = [...current.warnings];
    if (known.length === 0) {
      return { ok: false, failure: 'no-scenario', message: `no valid scenario in ${this.options.path}`, errors, warnings, known };
    }
    if (!current.byName.has(this.options.initial)) {
      const closest = didYouMean(this.options.initial, known);
      return {
        ok: false,
        failure: 'unknown-initial',
        message: `unknown scenario "${this.options.initial}"${closest ? ` (did you mean "${closest}"?)` : ''}; known: ${known.join(', ')}`,
        errors,
        warnings,
        known,
      };
    }
    this.view = current;
    if (this.options.watch) this.startWatching();
    return { ok: true, errors, warnings, known };
  }

  /**
   * load(), in two steps: first only the file named after the start scenario
   * (`<initial>.yaml`/`.yml`), when it defines that scenario without errors;
   * then the other files, with loadRemaining(). Parsing a folder of YAML is the
   * largest part of a start (the bundled folder: ~0.2 s of CPU), and the
   * entitlement listener can answer with the start scenario meanwhile. In any
   * other case (one file, no such file, errors, another name) this is load().
   * The view after loadRemaining() is the one load() would have built.
   */
  async loadStartScenarioFirst(): Promise<StartOutcome & { remaining: boolean }> {
    const listed = await listScenarioFiles(this.options.path);
    const startFile = listed.kind === 'folder' && listed.files.length > 1 ? listed.files.find((file) => defaultNameOf(file) === this.options.initial) : undefined;
    if (startFile !== undefined) {
      await this.refreshFiles([startFile]);
      const current = this.build(false);
      if (current.byName.has(this.options.initial) && current.errors.length === 0) {
        this.view = current;
        return { ok: true, errors: [], warnings: [...current.warnings], known: [...current.byName.keys()], remaining: true };
      }
    }
    return { ...(await this.load()), remaining: false };
  }

  /** The files loadStartScenarioFirst() left for later: read them, and start watching. Errors are those of skipped files. */
  async loadRemaining(): Promise<StartOutcome> {
    return this.enqueue(async () => {
      await this.refreshFiles();
      const view = this.build(true);
      this.view = view;
      if (this.options.watch) this.startWatching();
      return { ok: true, errors: [...view.errors], warnings: [...view.warnings], known: [...view.byName.keys()] };
    });
  }

  /** The scenario answering right now: one reference, no I/O. */
  active(): CompiledScenario {
    return this.current().active.compiled;
  }

  activeName(): string {
    return this.current().active.name;
  }

  list(): ScenarioListing {
    const view = this.current();
    const scenarios = view.order.map(summary);
    if (view.orphan) scenarios.push(summary(view.active));
    return { active: view.active.name, scenarios, errors: [...view.errors] };
  }

  /** Current lint warnings of every file (for `validate`-like reporting). */
  warnings(): PositionedError[] {
    return [...this.current().warnings];
  }

  /** Activate a scenario by name; its counters start from zero. */
  setActive(name: string): { ok: true } | { ok: false; error: string; known: string[] } {
    const view = this.current();
    const scenario = view.byName.get(name);
    if (!scenario) return { ok: false, error: `no scenario named "${name}"`, known: [...view.byName.keys()] };
    scenario.compiled.resetCounters();
    if (name !== this.activeScenarioName) this.activate(name);
    this.view = this.build(true);
    this.emit('change', 'switch');
    return { ok: true };
  }

  /**
   * Add (or replace) a scenario from YAML or JSON text, kept in memory. It
   * needs a `name:`. Activated unless `activate` is false.
   */
  post(
    text: string,
    options: { activate: boolean },
  ): { ok: true; name: string; replaced: boolean; warnings: PositionedError[] } | { ok: false; errors: PositionedError[] } {
    const result = parseScenarioText(text, POSTED_FILE, { compile: this.compile });
    if (!result.scenario || !result.compiled) return { ok: false, errors: result.errors };
    const served = toServed(result.scenario, result.compiled);
    const replaced = this.current().byName.has(served.name);
    // A posted scenario that takes over from the active file scenario of its name is a change of
    // scenario (that file scenario is what was active before it); a new version of the active posted one is not.
    const activating = options.activate && (served.name !== this.activeScenarioName || !this.posted.has(served.name));
    this.posted.delete(served.name); // re-insert: listed in posting order
    this.posted.set(served.name, served);
    if (activating) this.activate(served.name);
    this.view = this.build(true);
    this.emit('change', 'post');
    return { ok: true, name: served.name, replaced, warnings: result.warnings };
  }

  /**
   * Forget a posted scenario (file scenarios cannot be removed). When it was the active one, the
   * scenario active before it was activated answers again (`fellBackTo: 'previous'`, counters
   * from zero), else the start scenario (`'start'`); else the active one stays (`null`).
   */
  remove(name: string): RemoveOutcome {
    if (!this.posted.delete(name)) return { ok: false };
    let fellBackTo: FellBackTo = null;
    const files = this.fileScenarios().byName;
    const exists = (candidate: string) => this.posted.has(candidate) || files.has(candidate);
    if (this.activeScenarioName === name) {
      let previous = this.activeBefore.pop();
      while (previous !== undefined && !exists(previous)) previous = this.activeBefore.pop();
      const next = previous ?? (exists(this.options.initial) ? this.options.initial : undefined);
      if (next !== undefined) {
        fellBackTo = previous !== undefined ? 'previous' : 'start';
        this.activeScenarioName = next;
        (this.posted.get(next) ?? files.get(next))?.compiled.resetCounters();
      }
    } else if (!files.has(name)) {
      forget(this.activeBefore, name);
    }
    this.view = this.build(true);
    this.emit('change', 'remove');
    return { ok: true, active: this.view.active.name, fellBackTo };
  }

  /** Makes `name` the active scenario, remembering the one it takes over from. */
  private activate(name: string): void {
    forget(this.activeBefore, this.activeScenarioName);
    this.activeBefore.push(this.activeScenarioName);
    if (name !== this.activeScenarioName) forget(this.activeBefore, name);
    this.activeScenarioName = name;
  }

  /** The active scenario's per-key states. */
  stateListing(): { name: string } & StateListing {
    const active = this.current().active;
    return { name: active.name, ...active.compiled.stateListing() };
  }

  /** Forget the active scenario's states (its counters stay); how many keys held one. */
  clearState(): number {
    return this.active().clearState();
  }

  /** Reset every counter of every scenario. */
  resetCounters(): void {
    const view = this.current();
    for (const scenario of view.order) scenario.compiled.resetCounters();
    view.active.compiled.resetCounters();
  }

  /**
   * Re-read every file from disk (POST /admin/reset) and reset every counter.
   * The active scenario stays active. Resolves when done.
   */
  async reload(): Promise<void> {
    await this.reloadWithOutcome();
  }

  /** reload(), resolving with what it found. */
  reloadWithOutcome(): Promise<ReloadOutcome> {
    return this.enqueue(async () => {
      const outcome = await this.refresh('reset');
      this.resetCounters();
      if (this.options.watch && !this.watcher) this.startWatching();
      return outcome;
    });
  }

  /**
   * Resolves with the next completed reload for which `accept` is true (every
   * reload pass counts, even one that found nothing changed). For tests: await
   * this instead of sleeping. Rejects after `timeoutMs`.
   */
  nextReload(accept: (outcome: ReloadOutcome) => boolean = () => true, timeoutMs = 5000): Promise<ReloadOutcome> {
    return new Promise((resolve, reject) => {
      const onReload = (outcome: ReloadOutcome) => {
        if (!accept(outcome)) return;
        clearTimeout(timeout);
        this.off('reload', onReload);
        resolve(outcome);
      };
      const timeout = setTimeout(() => {
        this.off('reload', onReload);
        reject(new Error(`no matching scenario reload within ${timeoutMs} ms`));
      }, timeoutMs); // not unref'd: whoever awaits a reload wants the process to stay up for it
      this.on('reload', onReload);
    });
  }

  /** Stop watching. The scenarios keep answering. */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  // --- reloading ------------------------------------------------------------

  private startWatching(): void {
    if (this.closed || this.watcher) return;
    const target = this.pathKind === 'folder' ? this.options.path : dirname(this.options.path);
    try {
      this.watcher = watch(target, { persistent: false }, () => this.scheduleWatchReload());
      this.watcher.on('error', () => {
        // The folder went away (or similar): stop, and try again after the next reload.
        this.watcher?.close();
        this.watcher = null;
        this.scheduleWatchReload();
      });
    } catch {
      this.watcher = null;
    }
  }

  /** Any event: re-read once, debounce later. Events during the wait ride along with it. */
  private scheduleWatchReload(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.watchReloadQueued || this.closed) return;
      this.watchReloadQueued = true;
      void this.enqueue(async () => {
        this.watchReloadQueued = false;
        if (this.closed) return;
        await this.refresh('watch');
        if (!this.watcher) this.startWatching();
      });
    }, this.options.debounceMs ?? RELOAD_DEBOUNCE_MS);
    this.timer.unref();
  }

  /** Reloads run one at a time, in order. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private pathKind: 'folder' | 'file' = 'folder';

  private async refresh(trigger: ReloadOutcome['trigger']): Promise<ReloadOutcome> {
    const started = performance.now();
    const before = this.view;
    const { changed, keptLastGood } = await this.refreshFiles();
    const view = this.build(true);
    this.view = view; // the one assignment the request path observes
    const outcome: ReloadOutcome = {
      trigger,
      names: [...view.byName.keys()],
      active: view.active.name,
      changed,
      keptLastGood,
      errors: [...view.errors],
      warnings: [...view.warnings],
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
    const noteworthy = trigger === 'reset' || changed.length > 0 || !sameErrors(before?.errors ?? [], view.errors);
    if (noteworthy) this.options.onReload?.(outcome);
    this.emit('reload', outcome);
    return outcome;
  }

  /** Re-read the files (or only `onlyFiles`); parse and compile only those whose text changed. */
  private async refreshFiles(onlyFiles?: readonly string[]): Promise<{ changed: string[]; keptLastGood: string[] }> {
    const found = await listScenarioFiles(this.options.path);
    const listed = onlyFiles && found.kind !== 'error' ? { ...found, files: found.files.filter((file) => onlyFiles.includes(file)) } : found;
    if (listed.kind === 'error') {
      // The path itself is unreadable (deleted?): keep serving what we have and say why.
      // A watcher on a deleted folder hears nothing more; drop it so a later reload re-attaches one.
      // (A single file's watcher is on its folder, which still hears the file come back.)
      this.pathError = listed.error;
      if (this.pathKind === 'folder') {
        this.watcher?.close();
        this.watcher = null;
      }
      return { changed: [], keptLastGood: [] };
    }
    this.pathKind = listed.kind;
    this.pathError = listed.files.length === 0 ? noFilesError(this.options.path) : null;

    const next = new Map<string, FileState>();
    const changed: string[] = [];
    const keptLastGood: string[] = [];
    for (const file of listed.files) {
      const previous = this.files.get(file);
      const read = await readScenarioText(file);
      if ('text' in read && previous && previous.text === read.text) {
        next.set(file, previous);
        if (previous.errors.length > 0 && previous.serving) keptLastGood.push(file);
        continue;
      }
      changed.push(file);
      if ('error' in read) {
        next.set(file, { ...lastGood(previous), text: null, errors: [read.error], warnings: [] });
        if (previous?.serving) keptLastGood.push(file);
        continue;
      }
      const result = parseScenarioText(read.text, file, { defaultName: defaultNameOf(file), compile: this.compile });
      if (result.scenario && result.compiled) {
        next.set(file, {
          text: read.text,
          serving: toServed(result.scenario, result.compiled),
          parsed: result,
          errors: [],
          warnings: result.warnings,
        });
      } else {
        next.set(file, { ...lastGood(previous), text: read.text, errors: result.errors, warnings: result.warnings });
        if (previous?.serving) keptLastGood.push(file);
      }
    }
    for (const file of this.files.keys()) if (!next.has(file)) changed.push(file);
    this.files = next;
    return { changed, keptLastGood };
  }

  /** File scenarios by name in file order; a name used by an earlier file is an error on the later one. */
  private fileScenarios(): { byName: Map<string, ServedScenario>; errors: PositionedError[] } {
    const byName = new Map<string, ServedScenario>();
    const fileOfName = new Map<string, string>();
    const errors: PositionedError[] = [];
    for (const [file, state] of this.files) {
      errors.push(...state.errors);
      const scenario = state.serving;
      if (!scenario) continue;
      const earlier = fileOfName.get(scenario.name);
      if (earlier !== undefined) {
        errors.push(duplicateNameError(file, scenario.name, earlier, state.parsed ?? { scenario: null, errors: [], warnings: [] }));
        continue;
      }
      fileOfName.set(scenario.name, file);
      byName.set(scenario.name, scenario);
    }
    return { byName, errors };
  }

  /** The complete view from files, posted scenarios and the active name. */
  private build(keepOrphan: boolean): View {
    const files = this.fileScenarios();
    const byName = new Map<string, ServedScenario>();
    const order: ServedScenario[] = [];
    for (const [name, scenario] of files.byName) {
      const shown = this.posted.get(name) ?? scenario;
      byName.set(name, shown);
      order.push(shown);
    }
    for (const [name, scenario] of this.posted) {
      if (byName.has(name)) continue;
      byName.set(name, scenario);
      order.push(scenario);
    }
    const errors = [...(this.pathError ? [this.pathError] : []), ...files.errors];
    const warnings = [...this.files.values()].flatMap((state) => state.warnings);

    let active = byName.get(this.activeScenarioName);
    let orphan = false;
    if (!active) {
      const previous = this.view?.active;
      if (keepOrphan && previous && previous.name === this.activeScenarioName) {
        active = previous;
        orphan = true;
        errors.push({
          file: previous.file,
          line: 1,
          column: 1,
          message:
            `the active scenario "${previous.name}" is no longer defined; its last version keeps answering ` +
            'until another scenario is activated (PUT /admin/scenarios/active)',
        });
      } else {
        // Only during load(), which checks this and refuses to start.
        active = order[0] ?? placeholder(this.activeScenarioName);
      }
    }
    return { byName, order, active, orphan, errors, warnings };
  }

  private current(): View {
    if (!this.view) throw new Error('ScenarioRegistry: load() has not succeeded');
    return this.view;
  }
}

function toServed(loaded: LoadedScenario, compiled: CompiledScenario): ServedScenario {
  return { name: loaded.name, file: loaded.file, description: loaded.definition.description ?? '', compiled };
}

function summary(scenario: ServedScenario): ScenarioSummary {
  return { name: scenario.name, file: scenario.file, description: scenario.description, rules: [...scenario.compiled.ruleNames] };
}

/** Removes `name` from a list of names. */
function forget(names: string[], name: string): void {
  const index = names.indexOf(name);
  if (index >= 0) names.splice(index, 1);
}

function lastGood(previous: FileState | undefined): Pick<FileState, 'serving' | 'parsed'> {
  return { serving: previous?.serving ?? null, parsed: previous?.parsed ?? null };
}

function sameErrors(a: readonly PositionedError[], b: readonly PositionedError[]): boolean {
  return a.length === b.length && a.every((error, index) => JSON.stringify(error) === JSON.stringify(b[index]));
}

/** Never served: stands in only while load() decides to refuse the start. */
function placeholder(name: string): ServedScenario {
  const none = (): never => {
    throw new Error('no scenario loaded');
  };
  const compiled: CompiledScenario = {
    name,
    file: '',
    description: '',
    ruleNames: [],
    answer: none,
    answerIfMatched: none,
    decide: none,
    decideIfMatched: none,
    answerInvalid: none,
    resetCounters: () => undefined,
    stateListing: () => ({ stateKey: null, stateTtlMs: null, capacity: 0, forgotten: 0, keys: {} }),
    clearState: () => 0,
    keyStats: () => ({ stateKeys: 0, stateKeysForgotten: 0, perKeyRules: [] }),
  };
  return { name, file: '', description: '', compiled };
}
