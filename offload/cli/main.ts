/**
 * The `offload` command line: parses arguments (commander) and wires the
 * layers together. It is the only module that imports from every layer.
 * Errors the tool understands (XdpError and its kin) become one line on
 * stderr and exit code 1; anything else is a bug and is reported as one.
 */
import { Command, CommanderError } from 'commander';
import { XdpError } from '../../xdp/errors.js';
import { capsDiff, capsList, capsRead, capsShow, capsWrite, type ReadOptions } from './caps-command.js';
import { checkCommand, type CheckOptions } from './check-command.js';
import { runDump, type DumpOptions } from './dump-command.js';
import type { Io } from './io.js';
import { jitCommand, type JitCommandOptions } from './jit-command.js';
import { PASSES } from '../jit/translate.js';
import { validateCommand, type ValidateCommandOptions } from './validate-command.js';
import { collect } from './load-input.js';
import { runCommand, type RunOptions } from './run-command.js';
import { versionText } from './version.js';

export type { Io } from './io.js';

/** Exit codes shared by every subcommand; `caps diff` answers as diff(1) does (1: differ), so its trouble is 2. */
export const EXIT = { OK: 0, INPUT: 1, DIFF_TROUBLE: 2 } as const;

export async function main(argv: readonly string[], io: Io): Promise<number> {
  let code: number = EXIT.OK;
  const program = new Command()
    .name('offload')
    .description('SmartNIC offload toolchain and card simulator for XDP programs')
    .version(versionText(), '-V, --version', 'the version of offload, Node.js and the kernel')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  program
    .command('dump')
    .description('show the programs, maps and disassembly (with C source lines) of a BPF object')
    .argument('<prog.o>', 'BPF ELF object (clang -target bpf)')
    .option('-s, --section <name>', 'only this program (section or function name)')
    .option('--json', 'machine-readable output')
    .option('--objdump', "the raw sections in llvm-objdump -d -r's layout")
    .option('--no-source', 'leave out C source lines')
    .option('--type <type>', 'every program is of this type whatever its section (xdp; bpftool prog load ... type xdp)')
    .option('--map-size <name=n>', 'max_entries of a map, as a loader sets it before loading (repeatable)', collect)
    .action((file: string, opts: DumpOptions) => {
      io.stdout.write(runDump(file, opts, io));
    });

  program
    .command('run')
    .description('replay a capture through the program on the simulated card (or the host CPU when the card cannot run it): actions, maps, throughput, latency, the bottleneck')
    .argument('<prog.o>', 'BPF ELF object (clang -target bpf)')
    .requiredOption('--pcap <file>', 'capture to replay (pcap or pcapng, Ethernet)')
    .option('--caps <profile>', 'the card: a shipped profile name (offload caps list) or a JSON file (default nfp-4000)')
    .option('--link <rate>', 'offer the packets at this link rate, each frame its wire time (25G, 100G, 10000M; default the profile\'s link)')
    .option('--rate <mpps>', 'offer the packets at this many million packets per second instead')
    .option('--mtu <bytes>', 'the interface\'s MTU: frames carrying a longer packet are dropped by the card\'s MAC, counted as oversize (default 1500)')
    .option('--workers <n>', 'run the card\'s packets on n worker threads, sharded by RSS queue (results identical to one)')
    .option('--report <file>', 'write an HTML report: latency, throughput against engines and threads, hot spots beside the source, actions, utilisation')
    .option('--engine <name>', 'no card: host (compiled JavaScript), interp (reference interpreter) or kernel (BPF_PROG_TEST_RUN)')
    .option('-s, --section <name>', 'the program to run (section or function name)')
    .option('--out <dir>', 'write {pass,tx,redirect,drop,aborted}.pcap with the packets as the program left them')
    .option('--trace <file>', 'one JSON line per packet')
    .option('--json', 'machine-readable summary')
    .option('--maps', 'show the maps at the end, after the summary')
    .option('--maps-in <file>', 'load map contents from JSON before the replay')
    .option('--maps-out <file>', 'save map contents as JSON after the replay')
    .option('--cpus <n>', 'possible CPUs; packets are spread over them round robin (default: 1 on the host engines; with --engine kernel, the kernel\'s possible CPUs, and only that number)')
    .option('--seed <n>', 'seed of bpf_get_prandom_u32 (host engines; default 0)')
    .option('--routes <file>', 'routing table (JSON) for bpf_fib_lookup (host engines; the kernel uses its own)')
    .option('--budget <n>', 'instructions allowed per packet before the run is stopped (host engines; default 1000000)')
    .option('--trace-printk <file>', 'save bpf_trace_printk lines to a file (host engines)')
    .option('--no-progress', 'no progress bar')
    .option('--no-verify', 'run a program the verifier refuses (for debugging; says so on stderr)')
    .option('--type <type>', 'every program is of this type whatever its section (xdp; bpftool prog load ... type xdp)')
    .option('--map-size <name=n>', 'max_entries of a map, as a loader sets it before loading (repeatable)', collect)
    .action(async (file: string, opts: RunOptions) => {
      code = await runCommand(file, opts, io);
    });

  program
    .command('check')
    .description('can this card run the program? offload (exit 0), host CPU fallback (3) or reject (2), every reason with its C line')
    .argument('<prog.o>', 'BPF ELF object (clang -target bpf)')
    .option('-s, --section <name>', 'the program to check (section or function name)')
    .option('--caps <profile>', 'card profile: a shipped name (offload caps list) or a JSON file', 'nfp-4000')
    .option('--log-level <n>', "0: summary; 1: the kernel's log of the path that failed; 2: every path, with the register states", '0')
    .option('--unprivileged', 'verify as a loader without CAP_SYS_ADMIN/CAP_PERFMON (stricter)')
    .option('--json', 'machine-readable result')
    .option('--type <type>', 'every program is of this type whatever its section (xdp; bpftool prog load ... type xdp)')
    .option('--map-size <name=n>', 'max_entries of a map, as a loader sets it before loading (repeatable)', collect)
    .action(async (file: string, opts: CheckOptions) => {
      code = await checkCommand(file, opts, io);
    });

  program
    .command('jit')
    .description("translate an offloadable program for the card: its size, an image (-o), each eBPF instruction's card instructions (--annotate)")
    .argument('<prog.o>', 'BPF ELF object (clang -target bpf)')
    .option('-s, --section <name>', 'the program to translate (section or function name)')
    .option('--caps <profile>', 'card profile: a shipped name (offload caps list) or a JSON file', 'nfp-4000')
    .option('-o, --output <prog.img>', 'write the card image (protobuf; docs/nic-image.md)')
    .option('--annotate', 'each C line, its eBPF instructions and the card instructions they became')
    .option('--json', 'counts as JSON: {"ebpf_insns", "card_insns", "passes": {name: card instructions saved}}')
    .option('--no-opt <pass>', `leave an optimisation out (repeatable): ${PASSES.join(', ')}`, collect, [])
    .option('--unprivileged', 'verify as a loader without CAP_SYS_ADMIN/CAP_PERFMON (stricter)')
    .option('--type <type>', 'every program is of this type whatever its section (xdp; bpftool prog load ... type xdp)')
    .option('--map-size <name=n>', 'max_entries of a map, as a loader sets it before loading (repeatable)', collect)
    .action((file: string, opts: JitCommandOptions) => {
      code = jitCommand(file, opts, io);
    });

  program
    .command('validate')
    .description('prove the translation packet by packet: host engine, card image and (--oracle kernel) the kernel compared; exit 1 on a mismatch, shown shrunk with the eBPF instruction where the runs part')
    .argument('<prog.o>', 'BPF ELF object (clang -target bpf)')
    .option('-s, --section <name>', 'the program to validate (section or function name)')
    .option('--caps <profile>', 'card profile: a shipped name (offload caps list) or a JSON file', 'nfp-4000')
    .option('--pcap <file>', 'the packets of a capture (pcap or pcapng)')
    .option('--random <n>', `protocol-aware random packets aimed at the program's branches (default ${1000} without --pcap)`)
    .option('--seed <n>', 'seed of the random packets and of bpf_get_prandom_u32 on every engine', '1')
    .option('--oracle <engine>', "a third engine: 'kernel' (BPF_PROG_TEST_RUN)")
    .option('--no-shrink', 'show a mismatching packet as it is')
    .option('--json', '{"packets", "mismatches", "engines", "coverage", ...}')
    .option('--type <type>', 'every program is of this type whatever its section (xdp; bpftool prog load ... type xdp)')
    .option('--map-size <name=n>', 'max_entries of a map, as a loader sets it before loading (repeatable)', collect)
    .action((file: string, opts: ValidateCommandOptions) => {
      code = validateCommand(file, opts, io);
    });

  const caps = program.command('caps').description('card capability profiles: list, show, compare, read from a card');
  caps.command('list').description('the shipped profiles').option('--json', 'one summary per profile as JSON')
    .action((opts: { json?: boolean }) => {
      code = capsList(opts, io);
    });
  caps.command('show').description('one profile in full').argument('<profile>', 'a shipped name or a JSON file')
    .option('--json', 'the profile as JSON').action((name: string, opts: { json?: boolean }) => {
      code = capsShow(name, opts, io);
    });
  caps.command('diff').description('what differs between two profiles, by JSON path; exit 0 when the same, 1 when they differ, 2 on trouble (as diff does)')
    .argument('<a>', 'a shipped name or a JSON file').argument('<b>', 'a shipped name or a JSON file')
    .option('--json', 'the differences as JSON').action((a: string, b: string, opts: { json?: boolean }) => {
      try {
        code = capsDiff(a, b, opts, io);
      } catch (e) {
        if (!(e instanceof XdpError)) throw e;
        io.stderr.write(`offload: ${e.message}\n`);
        code = EXIT.DIFF_TROUBLE;
      }
    });

  caps.command('read').description('read a card\'s capabilities (TLV area and control BAR) back into a profile, as the nfp driver does')
    .option('--card <name>', 'the simulated card with this profile (a shipped name or a JSON file)')
    .option('--tlv <file>', 'a capability area saved by caps write').option('--bar <file>', 'its control BAR')
    .option('--json', 'the profile as JSON').action((opts: ReadOptions) => {
      code = capsRead(opts, io);
    });
  caps.command('write').description('save the capability area and control BAR a card with this profile exposes')
    .argument('<profile>', 'a shipped name or a JSON file')
    .requiredOption('--tlv <file>', 'where the capability records go').requiredOption('--bar <file>', 'where the control BAR goes')
    .action((name: string, opts: { tlv: string; bar: string }) => {
      code = capsWrite(name, opts, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      const trouble = argv[0] === 'caps' && argv[1] === 'diff' ? EXIT.DIFF_TROUBLE : EXIT.INPUT;
      code = e.exitCode === 0 ? EXIT.OK : trouble;
    } else if (e instanceof XdpError) {
      io.stderr.write(`offload: ${e.message}\n`);
      code = EXIT.INPUT;
    } else {
      io.stderr.write(`offload: internal error (please report): ${(e as Error).stack ?? String(e)}\n`);
      code = 70;
    }
  }
  return code;
}
