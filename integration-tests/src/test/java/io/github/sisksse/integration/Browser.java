package io.github.sisksse.integration;

import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.HttpCookie;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a browser keeps for one user of {@link SecuredApplication}: the session cookie it got from the login form,
 * which it then sends with every request, the {@code EventSource}'s included.
 */
final class Browser {

	private final int port;

	private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);

	private final HttpClient http;

	private Browser(int port) {
		this.port = port;
		this.http = HttpClient.newBuilder().cookieHandler(this.cookies).build();
	}

	/**
	 * Log in with the form, as a person would on the login page.
	 */
	static Browser login(int port, String username, String password) {
		Browser browser = new Browser(port);
		String form = Map.of("username", username, "password", password, "_csrf", browser.csrfToken())
			.entrySet()
			.stream()
			.map((field) -> field.getKey() + "=" + URLEncoder.encode(field.getValue(), StandardCharsets.UTF_8))
			.collect(Collectors.joining("&"));
		HttpResponse<String> response = browser.send(browser.request("/login")
			.header("Content-Type", "application/x-www-form-urlencoded")
			.POST(HttpRequest.BodyPublishers.ofString(form)));
		assertThat(response.statusCode()).as("login of %s", username).isEqualTo(302);
		assertThat(response.headers().firstValue("Location")).as("login of %s", username)
			.hasValueSatisfying((location) -> assertThat(location).doesNotContain("error"));
		return browser;
	}

	/**
	 * Return the CSRF token a page of the application would carry now.
	 */
	String csrfToken() {
		return send(request("/csrf").GET()).body();
	}

	/**
	 * Return the request headers that carry this browser's cookies, for a client that keeps none itself.
	 */
	Map<String, String> cookieHeaders() {
		return Map.of("Cookie", this.cookies.getCookieStore()
			.getCookies()
			.stream()
			.map(HttpCookie::toString)
			.collect(Collectors.joining("; ")));
	}

	/**
	 * Post text as a page's script would, with or without the CSRF token in its header.
	 */
	HttpResponse<String> post(String path, String text, boolean withCsrfToken) {
		HttpRequest.Builder request = request(path).header("Content-Type", "text/plain")
			.POST(HttpRequest.BodyPublishers.ofString(text));
		if (withCsrfToken) {
			request.header("X-CSRF-TOKEN", csrfToken());
		}
		return send(request);
	}

	private HttpRequest.Builder request(String path) {
		return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + path));
	}

	private HttpResponse<String> send(HttpRequest.Builder request) {
		try {
			return this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
