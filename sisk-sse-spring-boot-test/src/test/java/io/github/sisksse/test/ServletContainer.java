package io.github.sisksse.test;

import org.springframework.boot.web.server.WebServer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The servlet container a test run is for. {@code mvn verify} runs the tests tagged {@link #TAG} twice, once per
 * surefire execution of the parent pom: "default-test" on the project's classpath (Tomcat) and "jetty" with Tomcat
 * replaced by Jetty. Each execution names its container in the system property {@link #PROPERTY}; without it (an
 * IDE run, on the project's classpath) the container is Tomcat.
 */
public final class ServletContainer {

	/**
	 * The JUnit tag of the tests that start a web server; only they run again in the "jetty" execution. Subclasses
	 * of HttpTestSupport inherit it; a class that starts a server otherwise (SpringApplication.run) carries it.
	 */
	public static final String TAG = "web-server";

	/**
	 * The system property each surefire execution sets to "tomcat" or "jetty".
	 */
	public static final String PROPERTY = "sisk.test.container";

	private ServletContainer() {
	}

	/**
	 * Check that this web server is the container the test run is for, so that the matrix cannot run one
	 * container twice.
	 */
	public static void assertExpected(WebServer server) {
		String expected = System.getProperty(PROPERTY, "tomcat");
		String actual = server.getClass().getName();
		System.out.println("Servlet container: " + actual + " (" + PROPERTY + "=" + expected + ")");
		assertThat(expected).as("system property %s", PROPERTY).isIn("tomcat", "jetty");
		assertThat(actual).as("web server class").startsWith("org.springframework.boot." + expected + ".");
	}

}
