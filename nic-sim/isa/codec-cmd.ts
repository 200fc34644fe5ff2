/**
 * CMD (nfp_asm.h OP_CMD_*): a memory command. Field positions, the context-swap codes
 * and the address modes are the header's; what TGT_CMD and TOKEN mean is this
 * project's (tables.ts CMD_TARGETS, CMD_ACTIONS, CMD_TOKEN). Restricted A and B
 * address operands without I8, swap or LMEXTN (`emit_cmd_any` refuses both).
 */
import { checkRange, codeOf, decodePair, encodePair, hex, nameOf, placer, type Codec } from './codec-common.js';
import { CMD, getField, getFlag } from './fields.js';
import type { CmdAction } from './tables.js';
import {
  CMD_ACTIONS, CMD_CTX, CMD_MAX_LENGTH, CMD_MAX_SIG, CMD_MODES, CMD_TARGET_SHIFT, CMD_TARGETS, CMD_TOKEN, XFER_COUNT,
} from './tables.js';

const f = CMD.fields;

/** Transfer registers a command of this action and length uses. */
export const xferWords = (action: CmdAction, length: number): number =>
  action === 'read8' || action === 'write8' ? Math.ceil(length / 4) : action === 'add64' ? 2 * length : length;

export const cmdCodec: Codec<'cmd'> = {
  encode(i, fail) {
    const put = placer(fail);
    const target = codeOf(CMD_TARGETS, i.target, 'memory target', fail);
    const action = codeOf(CMD_ACTIONS, i.action, 'command action', fail);
    const mode = codeOf(CMD_MODES, i.mode, 'address mode', fail);
    checkRange('length', i.length, 1, CMD_MAX_LENGTH, fail);
    checkRange('transfer register', i.xfer, 0, XFER_COUNT - 1, fail);
    if (i.xfer + xferWords(i.action, i.length) > XFER_COUNT) {
      fail(`$xfer_${i.xfer} + ${i.length} ${i.action.endsWith('8') ? 'bytes' : 'words'} runs past $xfer_${XFER_COUNT - 1}`);
    }
    let ctx: number;
    if (i.ctxSwap) {
      checkRange('defer', i.defer, 0, 2, fail);
      checkRange('signal', i.sig, 1, CMD_MAX_SIG, fail);
      ctx = CMD_CTX.swap + i.defer;
    } else {
      if (i.defer !== 0) fail('defer without a context swap');
      if (i.sig !== 0) fail(`signal ${i.sig} without a context swap (this project signals only swapping commands)`);
      ctx = CMD_CTX.noSwap;
    }
    const src = encodePair(i.a, i.b, 're', fail, {});
    return (
      CMD.ident.value | put(f.aSrc, src.a, 'A') | put(f.ctx, ctx, 'CTX') | put(f.bSrc, src.b, 'B') |
      put(f.token, i.byteSwap ? CMD_TOKEN.swap : CMD_TOKEN.bigEndian, 'TOKEN') | put(f.xfer, i.xfer, 'XFER') |
      put(f.cnt, i.length - 1, 'CNT') | put(f.sig, i.sig, 'SIG') |
      put(f.tgtCmd, (target << CMD_TARGET_SHIFT) | action, 'TGT_CMD') | put(f.indir, i.indirect, 'INDIR') |
      put(f.mode, mode, 'MODE')
    );
  },
  decode(w, fail) {
    const tgt = getField(w, f.tgtCmd);
    const target = nameOf(CMD_TARGETS, tgt >> CMD_TARGET_SHIFT, 'memory target', fail);
    const action = nameOf(CMD_ACTIONS, tgt & ((1 << CMD_TARGET_SHIFT) - 1), 'command action', fail);
    const mode = nameOf(CMD_MODES, getField(w, f.mode), 'address mode', fail);
    const token = getField(w, f.token);
    if (token !== CMD_TOKEN.bigEndian && token !== CMD_TOKEN.swap) fail(`TOKEN ${token} is not assigned`);
    const ctx = getField(w, f.ctx);
    const sig = getField(w, f.sig);
    const ctxSwap = ctx !== CMD_CTX.noSwap;
    if (ctxSwap && sig === 0) fail('a context swap waits for a signal, but SIG is 0');
    if (!ctxSwap && sig !== 0) fail(`SIG ${sig} without a context swap`);
    const xfer = getField(w, f.xfer);
    const length = getField(w, f.cnt) + 1;
    if (xfer + xferWords(action, length) > XFER_COUNT) fail(`transfer registers ${xfer}.. run past ${hex(XFER_COUNT - 1)}`);
    const [a, b] = decodePair(w, f, 're', fail);
    return {
      cls: 'cmd', target, action, byteSwap: token === CMD_TOKEN.swap, xfer, length, a, b, ctxSwap,
      defer: ctxSwap ? ctx - CMD_CTX.swap : 0, sig, mode, indirect: getFlag(w, f.indir),
    };
  },
};
