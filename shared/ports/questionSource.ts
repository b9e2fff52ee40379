/** Metabase saved questions, read row by row. */

/** Rows of a saved question (Metabase), streamed one by one. */
export interface QuestionSource {
  readonly description: string;
  rows(questionId: number, options: { startDate?: string }): AsyncIterable<Record<string, unknown>>;
}
