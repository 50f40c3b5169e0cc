// Starts GraphiQL with the explorer plugin. Strawberry's page keeps this script
// inline; here it is a file of this origin, so the page's Content-Security-Policy
// allows scripts from 'self' only.
//
// The query and variables are kept in the address (to share them); headers are not,
// and are not kept across reloads either, since they hold credentials (an API key
// secret, a signed portal link).
"use strict";

(function () {
  const WELCOME = `# GraphiQL for the MakePay portal gateway.
#
# Merchant operations need an API key: put it in the Headers pane below, as
#   {"x-makecrypto-key-id": "mk_makepay_...", "x-makecrypto-key-secret": "..."}
#
# The portal's operations need the query string of a signed portal link:
#   {"x-makepay-portal": "company=acct_...&customer=cus_...&expires=...&signature=..."}
#
# Run with Ctrl-Enter (or the play button); Ctrl-Space completes.

{
  __typename
}
`;

  const parameters = new URLSearchParams(window.location.search);

  function keepInAddress(name, value) {
    if (value) {
      parameters.set(name, value);
    } else {
      parameters.delete(name);
    }
    const search = parameters.toString();
    history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
  }

  const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  const explorer = GraphiQLPluginExplorer.explorerPlugin();

  function GraphiQLWithExplorer() {
    const [query, setQuery] = React.useState(parameters.get("query") || WELCOME);
    const [variables, setVariables] = React.useState(parameters.get("variables") || undefined);

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      query: query,
      variables: variables,
      onEditQuery: function (value) {
        setQuery(value);
        keepInAddress("query", value);
      },
      onEditVariables: function (value) {
        setVariables(value);
        keepInAddress("variables", value);
      },
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQLWithExplorer),
  );
})();
