import { ApiError } from '../../common/errors/api-error';
import { MAX_PARTIALS, partialIdsOf } from './tus-concat-header';

const A = 'AAAAAAAAAAAAAAAAAAAAAA';
const B = 'BBBBBBBBBBBBBBBBBBBBBB';

function refusal(header: string): string {
  try {
    partialIdsOf(header);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).getStatus()).toBe(400);
    return (error as ApiError).message;
  }
  throw new Error(`${header} was accepted`);
}

describe('partialIdsOf', () => {
  it('reads absolute and path URLs in order, behind a PUBLIC_URL path too', () => {
    expect(partialIdsOf(`final;https://media.example/api/tus/${B} /api/tus/${A}`)).toEqual([B, A]);
    expect(partialIdsOf(`final; https://x.example/up/api/tus/${A}/  /api/tus/${B}`)).toEqual([A, B]);
  });

  it("refuses what is not a final list of this endpoint's upload URLs", () => {
    expect(refusal('partial')).toMatch(/final/);
    expect(refusal('final;')).toMatch(/names no partial/);
    expect(refusal(`final;/api/media/${A}`)).toMatch(/not a tus upload URL/);
    expect(refusal(`final;/api/tus/${A}/extra`)).toMatch(/not a tus upload URL/);
    expect(refusal('final;/api/tus/short')).toMatch(/not a tus upload URL/);
    expect(refusal('final;http://[bad/api/tus/x')).toMatch(/not a URL/);
  });

  it('refuses the same partial upload twice, and too many of them', () => {
    expect(refusal(`final;/api/tus/${A} http://h/api/tus/${A}`)).toMatch(/more than once/);
    const many = Array.from({ length: MAX_PARTIALS + 1 }, (_, i) => `/api/tus/${String(i).padStart(8, '0')}`);
    expect(refusal(`final;${many.join(' ')}`)).toMatch(/at most/);
  });
});
