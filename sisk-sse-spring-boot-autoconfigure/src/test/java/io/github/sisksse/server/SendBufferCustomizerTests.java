package io.github.sisksse.server;

import org.apache.catalina.connector.Connector;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

import org.springframework.boot.jetty.servlet.JettyServletWebServerFactory;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * Tests for {@link TomcatSendBufferCustomizer} and {@link JettySendBufferCustomizer}, on the connectors that the
 * factories would customize, without starting a server (the HTTP tests do, on each container).
 */
class SendBufferCustomizerTests {

	@Test
	void setsTomcatsSocketTxBufSize() {
		TomcatServletWebServerFactory factory = new TomcatServletWebServerFactory();
		new TomcatSendBufferCustomizer(65536).customize(factory);
		Connector connector = new Connector();
		factory.getConnectorCustomizers().forEach((customizer) -> customizer.customize(connector));
		assertThat(connector.getProperty("socket.txBufSize")).hasToString("65536");
	}

	@Test
	void failsWhenTomcatsConnectorRefusesTheProperty() {
		TomcatServletWebServerFactory factory = new TomcatServletWebServerFactory();
		new TomcatSendBufferCustomizer(65536).customize(factory);
		Connector refusing = new Connector() {

			@Override
			public boolean setProperty(String name, String value) {
				return false;
			}

		};
		assertThatIllegalStateException()
			.isThrownBy(() -> factory.getConnectorCustomizers().forEach((customizer) -> customizer.customize(refusing)))
			.withMessageContaining("sisk.sse.server.send-buffer")
			.withMessageContaining("socket.txBufSize");
	}

	@Test
	void setsTheAcceptedSendBufferSizeOfEveryJettyServerConnector() {
		JettyServletWebServerFactory factory = new JettyServletWebServerFactory();
		new JettySendBufferCustomizer(65536).customize(factory);
		Server server = new Server();
		ServerConnector first = new ServerConnector(server);
		ServerConnector second = new ServerConnector(server);
		server.addConnector(first);
		server.addConnector(new LocalConnector(server));
		server.addConnector(second);
		factory.getServerCustomizers().forEach((customizer) -> customizer.customize(server));
		assertThat(first.getAcceptedSendBufferSize()).isEqualTo(65536);
		assertThat(second.getAcceptedSendBufferSize()).isEqualTo(65536);
	}

	@Test
	void failsWhenJettyHasNoServerConnector() {
		JettyServletWebServerFactory factory = new JettyServletWebServerFactory();
		new JettySendBufferCustomizer(65536).customize(factory);
		Server server = new Server();
		server.addConnector(new LocalConnector(server));
		assertThatIllegalStateException()
			.isThrownBy(() -> factory.getServerCustomizers().forEach((customizer) -> customizer.customize(server)))
			.withMessageContaining("sisk.sse.server.send-buffer");
	}

}
