// Bearer-token checks for the feature server. Tokens are compared as SHA-256 digests with
// timingSafeEqual, against every accepted token without stopping at a match, so that the time taken
// tells nothing about how much of a token was right, nor which one matched.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export class TokenSet {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** Whether an Authorization header value is `Bearer <an accepted token>`. */
  accepts(authorization: string | undefined): boolean {
    const m = /^Bearer ([\x21-\x7e]+)$/i.exec(authorization ?? '');
    const given = digest(m ? m[1]! : '');
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, given) || ok;
    return ok && m !== null;
  }
}
