// The model's own WordPiece tokenizer (tokenizer.json + tokenizer_config.json from the model folder), run by
// @huggingface/tokenizers: BERT normaliser (lower case, accents stripped), [CLS] … [SEP], truncation at the model's
// maximum (512), token_type_ids all zeros, padding per batch to the longest sequence.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { errorText } from '../util/errors';
import { JsonError, jsonObject, readJson } from '../util/json';

export interface Encoded {
  /** Token ids including [CLS] and [SEP], truncated to maxLength. */
  ids: number[];
}

export interface Batch {
  /** [batch, seqLen] row-major. */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  batch: number;
  seqLen: number;
  /** Real (unpadded) tokens in the batch. */
  tokens: number;
}

/** A tokenizer/config JSON file as an object (the tokenizers library reads the rest); errors name the file. */
function readObject(file: string): Record<string, unknown> {
  try {
    return readJson(file, jsonObject);
  } catch (e) {
    if (e instanceof JsonError) throw e;
    throw new Error(`cannot read tokenizer file ${file}: ${errorText(e)}`);
  }
}

export class WordPieceTokenizer {
  readonly maxLength: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;

  private constructor(
    private readonly tok: Tokenizer,
    maxLength: number,
    ids: { cls: number; sep: number; pad: number },
  ) {
    this.maxLength = maxLength;
    this.clsId = ids.cls;
    this.sepId = ids.sep;
    this.padId = ids.pad;
  }

  /**
   * Load `tokenizer.json` (required) and `tokenizer_config.json` (optional) from a model folder. The maximum length is
   * the smaller of `model_max_length` (tokenizer_config.json) and `max_position_embeddings` (config.json), else 512.
   */
  static load(modelDir: string, opts: { maxLength?: number } = {}): WordPieceTokenizer {
    const tokFile = path.join(modelDir, 'tokenizer.json');
    const json = readObject(tokFile);
    const cfgFile = path.join(modelDir, 'tokenizer_config.json');
    const cfg = fs.existsSync(cfgFile) ? readObject(cfgFile) : {};
    let max = 512;
    const mml = cfg['model_max_length'];
    if (typeof mml === 'number' && mml > 0 && mml < 1e9) max = mml;
    const modelCfg = path.join(modelDir, 'config.json');
    if (fs.existsSync(modelCfg)) {
      const mpe = readObject(modelCfg)['max_position_embeddings'];
      if (typeof mpe === 'number' && mpe > 0) max = Math.min(max, mpe);
    }
    if (opts.maxLength) max = Math.min(max, opts.maxLength);
    const tok = new Tokenizer(json, cfg);
    const id = (name: string, fallback: string): number => {
      const t = typeof cfg[name] === 'string' ? (cfg[name] as string) : fallback;
      const v = tok.token_to_id(t);
      if (v === undefined) throw new Error(`${tokFile}: special token ${t} (${name}) is not in the vocabulary`);
      return v;
    };
    return new WordPieceTokenizer(tok, max, {
      cls: id('cls_token', '[CLS]'),
      sep: id('sep_token', '[SEP]'),
      pad: id('pad_token', '[PAD]'),
    });
  }

  /** Ids with [CLS] … [SEP], truncated (on the right) to maxLength. */
  encode(text: string): number[] {
    const ids = this.tok.encode(text, { add_special_tokens: false }).ids;
    const room = this.maxLength - 2;
    const body = ids.length > room ? ids.slice(0, room) : ids;
    return [this.clsId, ...body, this.sepId];
  }

  /** Word pieces (for display and tests), with [CLS]/[SEP]. */
  tokens(text: string): string[] {
    return this.encode(text).map((i) => this.tok.id_to_token(i) ?? '[UNK]');
  }

  /** Pad a group of encoded sequences to the longest one. */
  pad(seqs: readonly number[][]): Batch {
    const batch = seqs.length;
    const seqLen = seqs.reduce((m, s) => Math.max(m, s.length), 0);
    const n = batch * seqLen;
    const inputIds = new BigInt64Array(n);
    const attentionMask = new BigInt64Array(n);
    const tokenTypeIds = new BigInt64Array(n);
    const pad = BigInt(this.padId);
    let tokens = 0;
    for (let b = 0; b < batch; b++) {
      const s = seqs[b]!;
      const off = b * seqLen;
      for (let j = 0; j < seqLen; j++) {
        if (j < s.length) {
          inputIds[off + j] = BigInt(s[j]!);
          attentionMask[off + j] = 1n;
        } else {
          inputIds[off + j] = pad;
        }
      }
      tokens += s.length;
    }
    return { inputIds, attentionMask, tokenTypeIds, batch, seqLen, tokens };
  }

  /** Encode and pad in one step. */
  batch(texts: readonly string[]): Batch {
    return this.pad(texts.map((t) => this.encode(t)));
  }
}
