/**
 * TypeScript source read as text, for the tests that police src/ (source policy, import
 * direction): a small lexer that blanks comments and string contents, and the import specifiers.
 * @module
 */
import { ROOT } from "./oomhero_process.ts";

/** The two views of a source file the rules read; both keep every character's position. */
export interface Views {
  /** Comments blanked, strings kept: for import specifiers. */
  code: string;
  /** Comments and the contents of strings, templates and regular expressions blanked. */
  bare: string;
}

const REGEX_AFTER = new Set("(,=:[!&|?{};+-*%<>~^".split(""));
const REGEX_AFTER_WORDS = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "yield",
  "await",
]);

/** Splits TypeScript into {@link Views} with a small lexer: strings, templates, regexes, comments. */
export function views(source: string): Views {
  const code: string[] = [];
  const bare: string[] = [];
  const blank = (c: string) => (c === "\n" ? "\n" : " ");
  const keep = (c: string) => {
    code.push(c);
    bare.push(c);
  };
  const literal = (c: string) => {
    code.push(c);
    bare.push(blank(c));
  };
  const comment = (c: string) => {
    code.push(blank(c));
    bare.push(blank(c));
  };
  // Brace depths at which an open `${` returns to its template.
  const templates: number[] = [];
  let braces = 0;
  let i = 0;

  /** Scans template text from i up to its closing backtick or the next `${`. */
  const templateText = () => {
    while (i < source.length) {
      const c = source[i];
      if (c === "\\") {
        literal(c);
        if (i + 1 < source.length) literal(source[i + 1]);
        i += 2;
      } else if (c === "`") {
        keep(c);
        i++;
        return;
      } else if (c === "$" && source[i + 1] === "{") {
        keep("$");
        keep("{");
        i += 2;
        templates.push(braces);
        return;
      } else {
        literal(c);
        i++;
      }
    }
  };

  /** Whether a "/" here starts a regular expression rather than dividing: what precedes it. */
  const regexAllowed = () => {
    let j = bare.length - 1;
    while (j >= 0 && /\s/.test(bare[j])) j--;
    if (j < 0 || REGEX_AFTER.has(bare[j])) return true;
    let word = "";
    while (j >= 0 && /[\w$]/.test(bare[j])) word = bare[j--] + word;
    return REGEX_AFTER_WORDS.has(word);
  };

  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") comment(source[i++]);
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end < 0 ? source.length : end + 2;
      while (i < stop) comment(source[i++]);
    } else if (c === '"' || c === "'") {
      keep(c);
      i++;
      while (i < source.length && source[i] !== c && source[i] !== "\n") {
        if (source[i] === "\\" && i + 1 < source.length) literal(source[i++]);
        literal(source[i++]);
      }
      if (i < source.length) keep(source[i++]);
    } else if (c === "`") {
      keep(c);
      i++;
      templateText();
    } else if (c === "/" && regexAllowed()) {
      keep(c);
      i++;
      let inClass = false;
      while (i < source.length && source[i] !== "\n" && (inClass || source[i] !== "/")) {
        if (source[i] === "\\" && i + 1 < source.length) literal(source[i++]);
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
        literal(source[i++]);
      }
      if (i < source.length) keep(source[i++]);
    } else if (c === "}" && templates.length > 0 && templates[templates.length - 1] === braces) {
      templates.pop();
      keep(c);
      i++;
      templateText();
    } else {
      if (c === "{") braces++;
      if (c === "}") braces--;
      keep(c);
      i++;
    }
  }
  return { code: code.join(""), bare: bare.join("") };
}

/** Every import, export-from, require and dynamic import specifier with its offset. */
export function specifiers(code: string): { specifier: string; index: number }[] {
  const found = code.matchAll(
    /\b(?:from|import|require)\s*\(?\s*["']([^"'\n]+)["']|\bexport\s+\*\s+from\s*["']([^"'\n]+)["']/g,
  );
  return [...found].map((m) => ({ specifier: m[1] ?? m[2], index: m.index }));
}

/** Every .ts file under a directory, as paths relative to the repository root. */
export async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files.sort();
}
