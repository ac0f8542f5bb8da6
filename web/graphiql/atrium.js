// Starts GraphiQL on Atrium's /graphql.
//
// The Headers pane holds the operator secret or a token, so it stays in
// memory unless the user turns "Persist headers" on in GraphiQL's settings.
// GraphiQL's own default already keeps the pane out of localStorage (and
// passing shouldPersistHeaders: false would also ignore the user's saved
// opt-in), but its query history still saves each run's headers; the
// storage below strips them from everything GraphiQL saves until the user
// opts in.
(function () {
  'use strict';
  var optIn = 'graphiql:shouldPersistHeaders';

  function withoutHeaders(v) {
    if (Array.isArray(v)) return v.map(withoutHeaders);
    if (v === null || typeof v !== 'object') return v;
    var out = {};
    Object.keys(v).forEach(function (k) {
      if (k !== 'headers') out[k] = withoutHeaders(v[k]);
    });
    return out;
  }

  // What GraphiQL asked to save, kept in memory only until the user opts
  // in; GraphiQL saves the headers just before it saves the opt-in itself.
  var unsaved = {};

  var storage = {
    getItem: function (k) { return localStorage.getItem(k); },
    removeItem: function (k) {
      delete unsaved[k];
      localStorage.removeItem(k);
    },
    setItem: function (k, v) {
      if (k === optIn) {
        localStorage.setItem(k, v);
        if (v === 'true') {
          Object.keys(unsaved).forEach(function (u) { localStorage.setItem(u, unsaved[u]); });
          unsaved = {};
        }
        return;
      }
      if (localStorage.getItem(optIn) === 'true') {
        localStorage.setItem(k, v);
        return;
      }
      unsaved[k] = v;
      if (k === 'graphiql:headers') {
        localStorage.removeItem(k);
        return;
      }
      var saved = v;
      try {
        saved = JSON.stringify(withoutHeaders(JSON.parse(v)));
      } catch (e) { /* not JSON (a query): no headers in it */ }
      localStorage.setItem(k, saved);
    },
    clear: function () {
      unsaved = {};
      Object.keys(localStorage).forEach(function (k) {
        if (k.indexOf('graphiql:') === 0) localStorage.removeItem(k);
      });
    },
    get length() {
      return Object.keys(localStorage).filter(function (k) { return k.indexOf('graphiql:') === 0; }).length;
    }
  };

  var defaultQuery = [
    '# Welcome to Atrium.',
    '#',
    '# Paste into the Headers pane below (the secret is in data/admin-secret):',
    '#   {"Authorization": "Bearer <operator secret>", "x-oystehr-project-id": "<project id>"}',
    '# then run this query with the play button or Ctrl+Enter.',
    '',
    '{ project { id name fhirVersion } }',
    ''
  ].join('\n');

  ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, {
    fetcher: GraphiQL.createFetcher({ url: location.origin + '/graphql' }),
    storage: storage,
    defaultQuery: defaultQuery,
    isHeadersEditorEnabled: true,
    showPersistHeadersSettings: true,
    inputValueDeprecation: true
  }));
})();
