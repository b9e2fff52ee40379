/**
 * Turns a record's formatted text (HTML or markdown fragments, entities, stray control
 * characters) into clean prose for embedding. Pure and fast: it runs once per record.
 */
import { decodeHTML } from 'entities';

const SCRIPT_OR_STYLE = /<(script|style|noscript)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const HTML_COMMENT = /<!--[\s\S]*?-->/g;
/** Tags that end a block of text become a line break so that words on either side stay apart. */
const BLOCK_TAG = /<\/?(p|div|br|hr|li|ul|ol|tr|td|th|table|h[1-6]|section|article|header|footer|blockquote|pre)\b[^>]*>/gi;
const ANY_TAG = /<\/?[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?\/?>/g;

const MD_IMAGE = /!\[([^\]]*)\]\([^)]*\)/g;
const MD_LINK = /\[([^\]]+)\]\((?:[^()\s]|\([^)]*\))+(?:\s+"[^"]*")?\)/g;
const MD_CODE_FENCE = /^\s*(```|~~~).*$/gm;
const MD_HEADING = /^\s{0,3}#{1,6}\s+/gm;
const MD_BLOCKQUOTE = /^\s{0,3}>\s?/gm;
const MD_LIST_MARKER = /^\s*(?:[-*+]|\d{1,9}[.)])\s+/gm;
const MD_RULE = /^\s*(?:[-*_]\s*){3,}$/gm;
const MD_EMPHASIS = /(\*{1,3}|_{2,3})(?=\S)([\s\S]*?\S)\1/g;
const MD_STRIKE = /~~(?=\S)([\s\S]*?\S)~~/g;
const MD_INLINE_CODE = /`([^`\n]+)`/g;

/** C0/C1 control characters separate words, like whitespace. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;
/** Zero-width and bidi marks, the BOM and lone surrogates carry nothing to embed. */
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const WHITESPACE_RUN = /\s+/g;

export function sanitizeText(raw: string | null | undefined): string {
  if (!raw) return '';
  let text = raw.normalize('NFKC');
  if (text.includes('<')) {
    text = text.replace(SCRIPT_OR_STYLE, ' ').replace(HTML_COMMENT, ' ').replace(BLOCK_TAG, '\n').replace(ANY_TAG, '');
  }
  // Entities are decoded after tags are gone, so an encoded "&lt;b&gt;" survives as literal text.
  if (text.includes('&')) text = decodeHTML(text);
  text = stripMarkdown(text);
  return text.replace(CONTROL, ' ').replace(INVISIBLE, '').replace(WHITESPACE_RUN, ' ').trim().normalize('NFC');
}

function stripMarkdown(text: string): string {
  return text
    .replace(MD_IMAGE, '$1')
    .replace(MD_LINK, '$1')
    .replace(MD_CODE_FENCE, '')
    .replace(MD_HEADING, '')
    .replace(MD_BLOCKQUOTE, '')
    .replace(MD_RULE, '')
    .replace(MD_LIST_MARKER, '')
    .replace(MD_EMPHASIS, '$2')
    .replace(MD_STRIKE, '$1')
    .replace(MD_INLINE_CODE, '$1');
}
