// Starts Swagger UI on /api/v1/swagger/index.html (ticketing/templates/swagger_ui.html).
// A file, not an inline script, so the page's CSP can say script-src 'self'.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  var config = {
    url: container.dataset.specUrl,
    dom_id: "#swagger-ui-container",
    validatorUrl: null, // no call to validator.swagger.io: nothing leaves this origin
  };
  var extra = JSON.parse(container.dataset.config || "{}");
  for (var name in extra) {
    config[name] = extra[name];
  }
  window.ui = SwaggerUIBundle(config);
});
