import { describe, expect, it } from "vitest";
import { SluiceError } from "../errors/index.js";
import { connect } from "./connect.js";

describe("connect", () => {
  it.each(["not a url", "", "ftp://localhost:8080", "localhost:8080", 42])(
    "refuses %j at once, naming the url, rather than failing every call later",
    (url) => {
      let error: unknown;
      try {
        connect(url as string);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SluiceError);
      expect(error).toMatchObject({ code: "SLUICE_VALIDATION", field: "url" });
    },
  );

  it("takes http and https URLs, with a path or a trailing slash", async () => {
    for (const url of ["http://localhost:8080", "https://sluice.example/", "http://[::1]:9/base"])
      await connect(url).close();
  });
});
