package io.github.sisksse;

import io.github.sisksse.test.ServletContainer;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.web.server.context.WebServerApplicationContext;

/**
 * The HTTP tests run on the servlet container this surefire execution is for (Tomcat or Jetty).
 */
@SpringBootTest(classes = SseTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT)
class ServletContainerTests extends HttpTestSupport {

	@Autowired
	WebServerApplicationContext context;

	@Test
	void runsOnTheContainerOfThisSurefireExecution() {
		ServletContainer.assertExpected(this.context.getWebServer());
	}

}
