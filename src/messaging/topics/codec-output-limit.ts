/** The error a codec throws when a batch would decompress past its limit (as zlib's maxOutputLength). */
export function outputTooLarge(codec: string, maxOutputBytes: number): Error {
  const error = new RangeError(`${codec} output exceeds ${maxOutputBytes} bytes`) as Error & {
    code: string;
  };
  error.code = "ERR_BUFFER_TOO_LARGE";
  return error;
}
