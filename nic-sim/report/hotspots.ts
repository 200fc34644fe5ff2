/**
 * Where a card replay spent its cycles: the meter's cycles and sleeps per card
 * instruction (nic-sim/timing/packet-meter.ts) summed per eBPF instruction through the
 * image's source map (CardImage.source), and per C line through the program's line
 * table. Card instructions of no eBPF instruction (prologue, outro, pad) and the
 * firmware's work around every packet are counted apart.
 */
export interface SourceLine {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

export interface InsnSpot {
  readonly index: number;
  readonly text: string;
  readonly cycles: number;
  readonly sleep: number;
  readonly line?: SourceLine;
}

export interface LineSpot extends SourceLine {
  readonly cycles: number;
  readonly sleep: number;
}

export interface HotSpots {
  /** Per eBPF instruction, in program order (all of them, the cold included). */
  readonly insns: readonly InsnSpot[];
  /** Per C line that has cycles, in file and line order. */
  readonly lines: readonly LineSpot[];
  /** Card instructions of no eBPF instruction: cycles and sleeps. */
  readonly glue: { readonly cycles: number; readonly sleep: number };
  /** Packets the cycles were summed over (the report shows them per packet). */
  readonly packets: number;
}

export function hotSpots(
  pcCycles: Float64Array, pcSleep: Float64Array, source: readonly number[], program: { readonly texts: readonly string[]; lineOf(index: number): SourceLine | undefined },
  packets: number,
): HotSpots {
  const n = program.texts.length;
  const cycles = new Float64Array(n);
  const sleep = new Float64Array(n);
  let glueC = 0;
  let glueS = 0;
  for (let pc = 0; pc < pcCycles.length; pc++) {
    const i = source[pc] ?? -1;
    if (i >= 0 && i < n) {
      cycles[i]! += pcCycles[pc]!;
      sleep[i]! += pcSleep[pc]!;
    } else {
      glueC += pcCycles[pc]!;
      glueS += pcSleep[pc]!;
    }
  }
  const insns: InsnSpot[] = [];
  const byLine = new Map<string, { file: string; line: number; text: string; cycles: number; sleep: number }>();
  for (let i = 0; i < n; i++) {
    const line = program.lineOf(i);
    insns.push({ index: i, text: program.texts[i]!, cycles: cycles[i]!, sleep: sleep[i]!, ...(line ? { line } : {}) });
    if (line && (cycles[i]! > 0 || sleep[i]! > 0)) {
      const key = `${line.file}:${line.line}`;
      const at = byLine.get(key) ?? { ...line, cycles: 0, sleep: 0 };
      at.cycles += cycles[i]!;
      at.sleep += sleep[i]!;
      byLine.set(key, at);
    }
  }
  const lines = [...byLine.values()].sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  return { insns, lines, glue: { cycles: glueC, sleep: glueS }, packets };
}
