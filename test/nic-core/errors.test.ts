/** The executor's typed errors: step limit, PC outside the program, memory outside its region, transfer range. */
import { describe, expect, it } from 'vitest';
import { XdpError } from '../../xdp/errors.js';
import { expectError, runError } from './run-asm.js';

describe('executor errors', () => {
  it('the step limit names the PC and the instruction', () => {
    const e = runError('immed[gprA_1, 1]\nloop: br[loop]', () => {}, { stepLimit: 10 });
    expectError(e, 'step-limit', 'pc 1 `br[.1]`: step limit of 10 instructions reached before the end address 2');
    expect(e).toBeInstanceOf(XdpError);
    expect([e.pc, e.text]).toEqual([1, 'br[.1]']);
  });

  it('the default step limit is 100,000', () => {
    expectError(runError('loop: br[loop]'), 'step-limit', 'pc 0 `br[.0]`: step limit of 100000 instructions reached before the end address 1');
  });

  it('a PC outside the program', () => {
    expectError(runError('br[.100]\nnop'), 'bad-pc', 'pc 100: pc is outside the program (2 instructions)');
    expectError(runError('nop', () => {}, { endPc: 5 }), 'bad-pc', 'pc 1: pc is outside the program (1 instructions)');
    expectError(runError('br[.3], defer[2]\nnop', () => {}, { endPc: 3 }), 'bad-pc', 'pc 2: pc is outside the program (2 instructions) in a defer slot of pc 0');
  });

  it('memory outside the region, and a transfer range past $xfer_31', () => {
    const ctm = new Uint8Array(16);
    expectError(
      runError('ctm[read32, $xfer_0, gprA_1, 0, 2], ctx_swap[sig1]', (s) => { s.gprA[1] = 12; }, { mem: { ctm } }),
      'memory', 'pc 0 `ctm[read32, $xfer_0, gprA_1, 0, 2], ctx_swap[sig1]`: ctm access 0xc+8 is outside the region (0x10 bytes)',
    );
    expectError(
      runError('immed[--, 0x280]\nctm[read32, $xfer_30, 0, 0, 1], ctx_swap[sig1], indirect_ref', () => {}, { mem: { ctm } }),
      'memory', 'pc 1 `ctm[read32, $xfer_30, 0, 0, 1], ctx_swap[sig1], indirect_ref`: $xfer_30 + 3 words runs past $xfer_31',
    );
    expectError(runError('emem[write32, $xfer_0, 0, 0, 1]'), 'memory', 'pc 0 `emem[write32, $xfer_0, 0, 0, 1]`: emem access 0x0+4 is outside the region (0x0 bytes)');
  });

  it('a context-swapping command in a defer slot', () => {
    const e = runError('br[.2], defer[1]\nctm[read32, $xfer_0, 0, 0, 1], ctx_swap[sig1]\nnop', () => {}, { mem: { ctm: new Uint8Array(4) } });
    expectError(e, 'hazard', 'pc 1 `ctm[read32, $xfer_0, 0, 0, 1], ctx_swap[sig1]`: a context-swapping command in a defer slot of pc 0');
  });

  it('ending after a local_csr_rd or inside a multiply sequence', () => {
    expectError(runError('local_csr_rd[PSEUDO_RND_NUM]'), 'hazard', 'pc 1: the run ends right after a local_csr_rd');
    expectError(runError('mul_step[gprA_1, gprB_1], start'), 'hazard', 'pc 1: the run ends inside a multiply sequence');
  });
});
