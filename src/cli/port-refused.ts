import { SluiceError } from "../errors/index.js";

/**
 * A port the listener could not bind, said as which option named it and what to do; any other
 * error as it is.
 */
export function portRefused(
  error: unknown,
  option: string,
  portNumber: number,
  host: string,
  likely: string,
  otherwise = "",
): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== "EADDRINUSE" && code !== "EACCES") return error;
  const why =
    code === "EADDRINUSE"
      ? `is already in use ${likely}`
      : "may not be bound by this user (ports below 1024 need privileges)";
  return new SluiceError(
    "SLUICE_VALIDATION",
    `${option}: port ${portNumber} on ${host} ${why}; choose another with ${option} <n> (0 picks a free one)${otherwise}`,
    { field: option, details: { port: portNumber }, cause: error },
  );
}
