import { sanitizeText } from '../../../../shared/domain/sanitize';

describe('sanitizeText', () => {
  it.each([
    ['<p>Hello <b>world</b></p><p>again</p>', 'Hello world again'],
    ['<script>alert(1)</script>Visible<style>p{}</style>', 'Visible'],
    ['Fish &amp; chips &lt;b&gt; &#233;t&eacute; &nbsp;x', 'Fish & chips <b> été x'],
    [
      '# Title\n\n**bold** and _plain_ and __under__ [link text](https://x.y/z) ![alt](i.png)',
      'Title bold and _plain_ and under link text alt',
    ],
    ['- item one\n- item two\n1. first\n> quoted', 'item one item two first quoted'],
    ['`code` and\n```js\nfenced\n```', 'code and fenced'],
    ['tab\there\r\nnew\u0000line\u200b zero\u0007', 'tab here new line zero'],
    ['ﬁne ＡＢＣ', 'fine ABC'],
    ['snake_case_name stays', 'snake_case_name stays'],
    ['5 * 3 * 2 = 30', '5 * 3 * 2 = 30'],
  ])('cleans %j', (input, expected) => {
    expect(sanitizeText(input)).toBe(expected);
  });

  it('returns an empty string for markup-only, whitespace-only or missing text', () => {
    expect(sanitizeText('  <br/> &nbsp; <div></div> ')).toBe('');
    expect(sanitizeText(undefined)).toBe('');
    expect(sanitizeText(null)).toBe('');
  });

  it('drops lone surrogates but keeps emoji', () => {
    expect(sanitizeText('ok \ud800 🚀')).toBe('ok 🚀');
  });

  it('keeps a comparison that is not a tag', () => {
    expect(sanitizeText('a < b and c > d')).toBe('a < b and c > d');
  });
});
