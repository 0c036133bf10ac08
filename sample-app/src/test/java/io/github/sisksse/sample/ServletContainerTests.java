package io.github.sisksse.sample;

import io.github.sisksse.test.ServletContainer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.web.server.context.WebServerApplicationContext;

/**
 * The sample's tests run on the servlet container this surefire execution is for (Tomcat or Jetty).
 */
@Tag(ServletContainer.TAG)
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
class ServletContainerTests {

	@Autowired
	WebServerApplicationContext context;

	@Test
	void runsOnTheContainerOfThisSurefireExecution() {
		ServletContainer.assertExpected(this.context.getWebServer());
	}

}
