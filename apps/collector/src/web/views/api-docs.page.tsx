import { API_DOCS, API_DOCS_STYLESHEET, SWAGGER_UI_SCRIPT, SWAGGER_UI_STYLESHEET } from '../assets.js';
import { Layout, type Viewer } from './layout.js';

/** /api/docs: the API's OpenAPI document in Swagger UI, served by the collector itself (no CDN). */
export function ApiDocsPage(props: { viewer: Viewer | undefined; documentUrl: string }) {
  return (
    <Layout
      title="API"
      viewer={props.viewer}
      assets={{ stylesheets: [SWAGGER_UI_STYLESHEET.path, API_DOCS_STYLESHEET.path], scripts: [SWAGGER_UI_SCRIPT.path, API_DOCS.path] }}
    >
      <h1>API</h1>
      <p>
        The REST API under <code>/api/v1</code>, described by its <a href={props.documentUrl}>OpenAPI document</a>. Calls send an API token (
        <a href="/account">Account</a> page) as <code>Authorization: Bearer</code>, or this browser’s session.
      </p>
      <div id="swagger-ui" data-url={props.documentUrl} data-csrf={props.viewer?.csrf ?? ''}>
        <noscript>The viewer needs JavaScript; the document itself is plain JSON.</noscript>
      </div>
    </Layout>
  );
}
