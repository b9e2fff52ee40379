/** The benchmark's fixed settings, shared by the modes and the measurements. */

/** The local API's key, and the provider keys the pipeline and the simulators agree on. */
export const API_KEY = 'bench-api-key';
export const OPENAI_KEY = 'sk-bench';
export const PINECONE_KEY = 'pcsk-bench';
/** The unlimited mode's RPM and TPM. */
export const UNLIMITED = 1e9;
/** The older system: 20 requests per second in all, 100 inputs per request. */
export const BASELINE = { requestsPerSecond: 20, inputsPerRequest: 100 };
/** Where the generated CSV is uploaded. */
export const S3_KEY = 'bench/catalogue.csv';
/** Where the same file is uploaded a second time, for the re-run under another key. */
export const OTHER_S3_KEY = 'bench/catalogue-again.csv';
