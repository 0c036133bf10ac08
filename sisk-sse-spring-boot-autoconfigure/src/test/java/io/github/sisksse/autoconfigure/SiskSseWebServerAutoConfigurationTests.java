package io.github.sisksse.autoconfigure;

import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.server.JettySendBufferCustomizer;
import io.github.sisksse.server.TomcatSendBufferCustomizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.task.TaskSchedulingAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.util.unit.DataSize;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link SiskSseWebServerAutoConfiguration}. Both containers are on this module's test classpath; each
 * case hides the one it is not about, as an application has only one.
 */
class SiskSseWebServerAutoConfigurationTests {

	private static final FilteredClassLoader TOMCAT_ONLY = new FilteredClassLoader("org.eclipse.jetty",
			"org.springframework.boot.jetty");

	private static final FilteredClassLoader JETTY_ONLY = new FilteredClassLoader("org.apache.catalina",
			"org.springframework.boot.tomcat");

	private final WebApplicationContextRunner contextRunner = new WebApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(SiskSseWebServerAutoConfiguration.class, SiskSseAutoConfiguration.class,
				TaskSchedulingAutoConfiguration.class));

	@Test
	void leavesTheSendBufferToTheContainerAndKernelByDefault() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(EventSourceRegistry.class);
			assertThat(context).doesNotHaveBean(WebServerFactoryCustomizer.class);
			assertThat(context.getBean(SiskSseProperties.class).getServer().getSendBuffer()).isNull();
		});
	}

	@Test
	void anEmptyValueMeansUnset() {
		this.contextRunner.withPropertyValues("sisk.sse.server.send-buffer=")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(WebServerFactoryCustomizer.class));
	}

	@Test
	void capsTomcatsConnectionsWhenTomcatIsOnTheClasspath() {
		this.contextRunner.withClassLoader(TOMCAT_ONLY)
			.withPropertyValues("sisk.sse.server.send-buffer=64KB")
			.run((context) -> {
				assertThat(context).hasSingleBean(TomcatSendBufferCustomizer.class);
				assertThat(context).doesNotHaveBean(JettySendBufferCustomizer.class);
				assertThat(context.getBean(SiskSseProperties.class).getServer().getSendBuffer())
					.isEqualTo(DataSize.ofKilobytes(64));
			});
	}

	@Test
	void capsJettysConnectionsWhenJettyIsOnTheClasspath() {
		this.contextRunner.withClassLoader(JETTY_ONLY)
			.withPropertyValues("sisk.sse.server.send-buffer=64KB")
			.run((context) -> {
				assertThat(context).hasSingleBean(JettySendBufferCustomizer.class);
				assertThat(context).doesNotHaveBean(TomcatSendBufferCustomizer.class);
			});
	}

	@Test
	void configuresNothingWithoutEitherContainer() {
		this.contextRunner
			.withClassLoader(new FilteredClassLoader("org.eclipse.jetty", "org.springframework.boot.jetty",
					"org.apache.catalina", "org.springframework.boot.tomcat"))
			.withPropertyValues("sisk.sse.server.send-buffer=64KB")
			.run((context) -> {
				assertThat(context).hasNotFailed().hasSingleBean(EventSourceRegistry.class);
				assertThat(context).doesNotHaveBean(WebServerFactoryCustomizer.class);
			});
	}

	@Test
	void configuresNothingWhenDisabled() {
		this.contextRunner.withPropertyValues("sisk.sse.server.send-buffer=64KB", "sisk.sse.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(WebServerFactoryCustomizer.class));
	}

	@Test
	void configuresNothingOutsideAWebApplication() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(SiskSseWebServerAutoConfiguration.class))
			.withPropertyValues("sisk.sse.server.send-buffer=64KB")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(WebServerFactoryCustomizer.class));
	}

	@ParameterizedTest
	@ValueSource(strings = { "1023B", "0", "-64KB", "65MB", "3GB" })
	void sendBufferOutOfRangeFailsStartupNamingTheProperty(String value) {
		this.contextRunner.withPropertyValues("sisk.sse.server.send-buffer=" + value).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure())
				.hasStackTraceContaining("sisk.sse.server.send-buffer must be between 1KB and 64MB");
		});
	}

	@Test
	void sendBufferThatIsNoSizeFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("sisk.sse.server.send-buffer=big").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasStackTraceContaining("sisk.sse.server.send-buffer");
		});
	}

	@Test
	void theBoundsAreAccepted() {
		this.contextRunner.withPropertyValues("sisk.sse.server.send-buffer=1KB")
			.run((context) -> assertThat(context).hasNotFailed());
		this.contextRunner.withPropertyValues("sisk.sse.server.send-buffer=64MB")
			.run((context) -> assertThat(context).hasNotFailed());
	}

}
