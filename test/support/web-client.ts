/** A browser without the browser: keeps cookies, follows nothing by itself, reads CSRF tokens. */
export class WebClient {
  readonly cookies = new Map<string, string>();

  /** `headers` go with every request, e.g. the `X-Forwarded-For` of a client behind the trusted proxy. */
  constructor(
    readonly baseUrl: string,
    readonly headers: Record<string, string> = {},
  ) {}

  async request(pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const headers = new Headers({ ...this.headers, ...Object.fromEntries(new Headers(init.headers)) });
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, ...value] = pair!.split('=');
      if (/Expires=Thu, 01 Jan 1970/i.test(cookie)) this.cookies.delete(name!);
      else this.cookies.set(name!, value.join('='));
    }
    return response;
  }

  get(pathOrUrl: string): Promise<Response> {
    return this.request(pathOrUrl);
  }

  /** A form post; pairs let a field repeat, as checkboxes do. */
  post(pathOrUrl: string, fields: Record<string, string> | [string, string][]): Promise<Response> {
    return this.request(pathOrUrl, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }

  /** The CSRF token of the first form on a page this client can see. */
  async csrf(pathOrUrl: string): Promise<string> {
    const page = await (await this.get(pathOrUrl)).text();
    const match = /name="_csrf" value="([^"]+)"/.exec(page);
    if (!match) throw new Error(`no CSRF token on ${pathOrUrl}`);
    return match[1]!;
  }
}
