/** `search <query…>`: the records nearest to a query, to check what the index holds. */
import type { SearchHit } from '../../shared/domain/search';
import { stringOption } from '../commandLine';
import type { Command } from '../context';
import { EXIT } from '../exitCodes';
import { fit } from '../format';

interface SearchAnswer {
  query: string;
  namespace: string;
  top_k: number;
  embedding_tokens: number;
  results: SearchHit[];
}

export const search: Command = async (context) => {
  const { body } = await context.api.get<SearchAnswer>('/search', {
    query: {
      q: context.positionals.join(' '),
      top_k: stringOption(context.options, 'top-k'),
      namespace: stringOption(context.options, 'namespace'),
      filter: stringOption(context.options, 'filter'),
    },
  });
  context.out.write(`${context.options.json ? JSON.stringify(body, null, 2) : searchResults(body, context.out.columns)}\n`);
  return EXIT.ok;
};

/** What a reader recognises a record by: its text, then the metadata of its own columns (not the `_` provenance). */
export function searchResults(answer: SearchAnswer, columns: number): string {
  const heading = `${answer.results.length} result${answer.results.length === 1 ? '' : 's'} in namespace ${answer.namespace}`;
  const lines = answer.results.flatMap((hit, index) => {
    const { text, ...rest } = hit.metadata;
    const columnsOfRecord = Object.entries(rest)
      .filter(([name]) => !name.startsWith('_') && name !== 'id')
      .map(([name, value]) => `${name}=${Array.isArray(value) ? value.join('|') : String(value)}`);
    const pieces = hit.pieces ? `  (${hit.pieces.length} pieces matched)` : '';
    const head = `${String(index + 1).padStart(2)}. ${hit.score.toFixed(4)}  ${hit.id}  `;
    return [
      fit(`${head}${typeof text === 'string' ? text : ''}`, columns - 1),
      fit(`${' '.repeat(head.length)}${columnsOfRecord.join('  ')}${pieces}`, columns - 1),
    ];
  });
  return [heading, ...lines].join('\n');
}
